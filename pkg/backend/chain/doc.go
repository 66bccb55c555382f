// Package chain puts several password backends one after the other
// (auth.backends), so that, say, directory users log in through LDAP while
// a break-glass admin in a flat file still logs in when LDAP is down:
//
//	auth:
//	  backends:
//	    - name: ldap
//	      kwargs: {host: ldap.example.org, use_ssl: true, bind_dn: "cn=gatehouse,ou=services,dc=example,dc=org",
//	               bind_password: "…", base_ou: "ou=people,dc=example,dc=org",
//	               base_ou_group: "ou=groups,dc=example,dc=org", group_dns: ["cn=ops,ou=groups,dc=example,dc=org"]}
//	    - name: flat_file
//	      kwargs: {file_path: /etc/gatehouse/breakglass}
//	  break_glass_users: [breakglass]
//
// auth.backend with backend_kwargs (st2's keys) is a chain of one, which
// behaves exactly like its backend. Build a chain with New from backends
// already made, or with Open from a backend.Registry and the config's
// entries.
//
// # Who owns a name
//
// A name belongs to the first link that knows it: the links are asked in
// order (backend.Prober's Probe) and the first answer other than Unknown
// is final. A wrong password there, an inactive account or an LDAP user
// outside group_dns is refused and never tried further down, so a copy of
// a directory user's name in a file can never log in while the directory
// answers. A name no link knows is refused. Every answer is the
// backend.Identity of the owning link with Identity.Backend set to the
// link's name (introspection, /me and the audit line show it), or the bare
// backend.ErrInvalidCredentials.
//
// Every link but the last must be a backend.Prober (htpasswd, ldap,
// local). pam cannot tell an unknown user from a wrong password, so it may
// only be last, where its refusal is final anyway; New refuses any other
// place with an error naming the link.
//
// # Outages and break-glass users
//
// When a link cannot be reached (its Probe returns an error wrapping
// backend.ErrUnavailable or ErrBusy), the name might be that link's, so no
// later link may answer for it: the login fails with that error (HTTP
// 503). The only exception is the names in break_glass_users: for those,
// the later links are still tried, in order, and the first that knows the
// name answers. A break-glass name is compared as each later link matches
// names (backend.FoldName: exactly for a flat file, ignoring case and
// spaces for LDAP), since the list names that link's users. A break-glass
// name that no later link knows gets the 503 too. A break-glass name that
// the unreachable link also has is served by the later link for the
// duration of the outage: that is what the list is for, so keep it short.
//
// # Timing
//
// Answers do not reveal which link knows a name (every refusal is the same
// error), and neither should timing. Each Prober does the same work for an
// unknown name as for its own (a dummy hash, a decoy bind), and once a
// link has answered, the chain calls Spend on every later Prober, which
// does the work of one refusal. Every login thus costs one check on every
// link, whoever owns the name. Two differences remain: a last link that is
// not a Prober (pam) cannot spend, so names owned by earlier links skip
// its cost; and while a link is unavailable the answers already differ
// (503 for names that reach it), and LDAP's Spend returns at once rather
// than wait for a dead server. An empty password and a name with control
// characters are refused before any link is asked, whatever the name.
//
// # Throttling, removals, closing
//
// Chain is a backend.NameFolder: it folds names as its first folding link
// does (see FoldName). It is a backend.RemovalReporter that merges its
// links' reports, and an io.Closer that closes every link that is one.
package chain
