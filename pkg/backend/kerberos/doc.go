// Package kerberos is the kerberos backend: it checks passwords against a
// KDC (Active Directory, FreeIPA, MIT), so that it chains with ldap, local
// and the rest, and it accepts Kerberos tickets through HTTP Negotiate
// (SPNEGO, RFC 4559) with the service's keytab (backend.Negotiator).
//
// It uses github.com/jcmturner/gokrb5/v8, a pure-Go Kerberos library, for
// the AS and TGS exchanges, keytabs and AP-REQ verification; this package
// adds what gokrb5 leaves to its callers: the mutual-authentication AP-REP,
// realm rules, clock-skew errors a person understands, timeouts, and the
// replay key that Gatehouse keeps in its shared store.
//
//	auth:
//	  backend: kerberos
//	  backend_kwargs:
//	    keytab: /etc/gatehouse/http.keytab
//	    service_principal: HTTP/gatehouse.example.org@EXAMPLE.ORG
//	    realm: EXAMPLE.ORG            # default: the service principal's
//	    kdcs: [dc1.example.org:88]    # default: krb5.conf's
//	    strip_realm: true             # alice@EXAMPLE.ORG logs in as alice; other realms keep theirs
//	    allowed_realms: [EXAMPLE.ORG] # default: [realm]
package kerberos
