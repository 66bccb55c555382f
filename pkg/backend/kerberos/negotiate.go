package kerberos

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// maxTokenBytes bounds a Negotiate token: an AD ticket with a large PAC is
// some kilobytes; anything far past that is not a ticket.
const maxTokenBytes = 64 << 10

// Negotiate verifies a SPNEGO token (an AP-REQ inside a NegTokenInit, or
// a bare Kerberos GSS token, which some clients send): the ticket must be
// for the service principal and decrypt with the keytab, be current, and
// carry an authenticator within the clock skew; the client's realm must
// be allowed. It answers with the mutual-authentication reply.
func (b *Backend) Negotiate(_ context.Context, token []byte, client netip.Addr) (backend.Ticket, error) {
	if len(token) == 0 || len(token) > maxTokenBytes {
		return backend.Ticket{}, refuse("the Negotiate token is empty or too large", nil)
	}
	apreq, mech, err := parseToken(token)
	if err != nil {
		return backend.Ticket{}, refuse("the Negotiate token is not a Kerberos ticket (SPNEGO with an AP-REQ)", err)
	}
	if err := b.checkService(apreq.Ticket); err != nil {
		return backend.Ticket{}, err
	}
	var addr types.HostAddress
	if client.IsValid() {
		addr = types.HostAddressFromNetIP(net.IP(client.Unmap().AsSlice()))
	}
	if _, err := apreq.Verify(b.s.keytab, b.s.skew, addr, &b.s.spn); err != nil {
		return backend.Ticket{}, b.explain(apreq, err)
	}
	enc := apreq.Ticket.DecryptedEncPart
	realm := enc.CRealm
	if !slices.Contains(b.s.allowed, realm) {
		return backend.Ticket{}, refuse(fmt.Sprintf("principals of the realm %s are not allowed here", realm), nil)
	}
	name := enc.CName.PrincipalNameString()
	if !backend.PlainName(name) || strings.ContainsAny(name, "*\\") || len(name)+len(realm) > 255 {
		return backend.Ticket{}, refuse("the ticket's client name cannot be a user name", nil)
	}
	if len(enc.CName.NameString) != 1 || strings.Contains(name, "/") {
		// host/web1, HTTP/x: a machine's or a service's keytab, no person;
		// the password path refuses such names too (passwordName).
		return backend.Ticket{}, refuse(fmt.Sprintf("the ticket is of %s@%s, a service or host principal, not a user; get a ticket as yourself (kinit user) and try again", name, realm), nil)
	}
	reply, err := mutualReply(apreq, mech)
	if err != nil {
		return backend.Ticket{}, fmt.Errorf("kerberos: building the mutual-authentication reply: %w", err)
	}
	auth := apreq.Authenticator
	ctime := auth.CTime.Add(time.Duration(auth.Cusec) * time.Microsecond)
	return backend.Ticket{
		Identity:    backend.Identity{Username: b.username(name, realm)},
		Principal:   name + "@" + realm,
		Reply:       reply,
		ReplayKey:   replayKey(name, realm, b.s.spnText, auth),
		ReplayUntil: ctime.Add(replayWindow * b.s.skew).UTC(),
	}, nil
}

// replayWindow is how many clock-skew windows past its time an
// authenticator is remembered. A replica accepts an authenticator while
// its time is within skew of that replica's own clock; the record is
// purged by whichever replica's clock says it has expired. With the
// record kept only until ctime + skew, a replica whose clock runs behind
// the purging one (by up to skew, as the KDC allows) would still accept
// the authenticator after its record is gone: a replay. ctime + 2*skew
// outlives every replica's window as long as the replicas' clocks are
// within skew of each other.
const replayWindow = 2

// refuse is a refused ticket, with the reason the client is told.
func refuse(reason string, cause error) error {
	return &backend.TicketError{Reason: "Kerberos: " + reason + ".", Err: cause}
}

// parseToken finds the AP-REQ in a SPNEGO NegTokenInit (or a raw Kerberos
// GSS token) and returns it with the mechanism the client named.
func parseToken(token []byte) (messages.APReq, asn1.ObjectIdentifier, error) {
	krbOID := gssapi.OIDKRB5.OID()
	var mt spnego.KRB5Token
	if err := mt.Unmarshal(token); err == nil && mt.IsAPReq() {
		return mt.APReq, krbOID, nil
	}
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(token); err != nil {
		return messages.APReq{}, nil, err
	}
	if !st.Init {
		return messages.APReq{}, nil, errors.New("not a NegTokenInit")
	}
	init := st.NegTokenInit
	mech := krbOID
	if len(init.MechTypes) > 0 {
		mech = init.MechTypes[0]
	}
	if !mech.Equal(krbOID) && !mech.Equal(gssapi.OIDMSLegacyKRB5.OID()) {
		return messages.APReq{}, nil, fmt.Errorf("first mechanism %v is not Kerberos", mech)
	}
	if err := mt.Unmarshal(init.MechTokenBytes); err != nil {
		return messages.APReq{}, nil, err
	}
	if !mt.IsAPReq() {
		return messages.APReq{}, nil, errors.New("the mechanism token is not an AP-REQ")
	}
	return mt.APReq, mech, nil
}

// checkService refuses a ticket for another principal before decrypting
// it, so the answer says so rather than "no key".
func (b *Backend) checkService(t messages.Ticket) error {
	if t.Realm != b.s.spnRealm || !t.SName.Equal(b.s.spn) {
		return refuse(fmt.Sprintf("the ticket is for %s@%s, not for this service (%s); use the host name the service principal names",
			t.SName.PrincipalNameString(), t.Realm, b.s.spnText), nil)
	}
	return nil
}

// explain turns gokrb5's verification error into a reason a person can
// act on.
func (b *Backend) explain(apreq messages.APReq, err error) error {
	var ke messages.KRBError
	if !errors.As(err, &ke) {
		return refuse(fmt.Sprintf("the ticket cannot be decrypted with the keytab of %s (a stale keytab, or a ticket from before the key changed)", b.s.spnText), err)
	}
	switch ke.ErrorCode {
	case errorcode.KRB_AP_ERR_SKEW:
		auth := apreq.Authenticator
		off := auth.CTime.Add(time.Duration(auth.Cusec) * time.Microsecond).Sub(b.now()).Round(time.Second)
		dir := "ahead of"
		if off < 0 {
			dir, off = "behind", -off
		}
		return refuse(fmt.Sprintf("clock skew too great: the client's clock is %v %s the server's, more than the %v allowed; synchronise the clocks (NTP)",
			off, dir, b.s.skew), err)
	case errorcode.KRB_AP_ERR_TKT_EXPIRED:
		return refuse(fmt.Sprintf("the ticket expired at %s; get a new one (kinit)",
			apreq.Ticket.DecryptedEncPart.EndTime.UTC().Format(time.RFC3339)), err)
	case errorcode.KRB_AP_ERR_TKT_NYV:
		return refuse("the ticket is not yet valid (or is marked invalid); check the clocks", err)
	case errorcode.KRB_AP_ERR_BADADDR:
		return refuse("the ticket is bound to other client addresses", err)
	case errorcode.KRB_AP_ERR_NOKEY:
		return refuse(fmt.Sprintf("the keytab has no key for this ticket's version of %s; export the keytab again", b.s.spnText), err)
	default:
		return refuse("the ticket was refused ("+strings.TrimPrefix(errorcode.Lookup(ke.ErrorCode), "(")+")", err)
	}
}

// replayKey identifies one authenticator: the same client, time and
// service is the same authenticator, whichever replica sees it.
func replayKey(name, realm, service string, a types.Authenticator) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{"krb5-authenticator", name, realm, service,
		a.CTime.UTC().Format(time.RFC3339), strconv.Itoa(a.Cusec), strconv.FormatInt(a.SeqNumber, 10)}, "\x00")))
	return hex.EncodeToString(sum[:])
}

// encAPRepPart is messages.EncAPRepPart with the optional fields left out
// when empty, as the ASN.1 module says.
type encAPRepPart struct {
	CTime          time.Time `asn1:"generalized,explicit,tag:0"`
	Cusec          int       `asn1:"explicit,tag:1"`
	SequenceNumber int64     `asn1:"optional,explicit,tag:3"`
}

// mutualReply is the SPNEGO NegTokenResp (accept-completed) carrying the
// Kerberos AP-REP that proves to the client that we could read its
// ticket (RFC 4120 §3.2.5, RFC 4121 §4.1, RFC 4178): the authenticator's
// time, encrypted with the ticket's session key.
func mutualReply(apreq messages.APReq, mech asn1.ObjectIdentifier) ([]byte, error) {
	auth := apreq.Authenticator
	part, err := asn1.Marshal(encAPRepPart{CTime: auth.CTime, Cusec: auth.Cusec, SequenceNumber: auth.SeqNumber})
	if err != nil {
		return nil, err
	}
	part = asn1tools.AddASNAppTag(part, asnAppTag.EncAPRepPart)
	ed, err := crypto.GetEncryptedData(part, apreq.Ticket.DecryptedEncPart.Key, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, err
	}
	rep, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: ed})
	if err != nil {
		return nil, err
	}
	rep = asn1tools.AddASNAppTag(rep, asnAppTag.APREP)
	oid, err := asn1.Marshal(gssapi.OIDKRB5.OID())
	if err != nil {
		return nil, err
	}
	gss := append(append(oid, 0x02, 0x00), rep...)
	gss = asn1tools.AddASNAppTag(gss, 0)
	resp := spnego.NegTokenResp{NegState: asn1.Enumerated(spnego.NegStateAcceptCompleted), SupportedMech: mech, ResponseToken: gss}
	return resp.Marshal()
}
