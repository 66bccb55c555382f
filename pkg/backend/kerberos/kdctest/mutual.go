package kdctest

import (
	"fmt"
	"testing"

	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-auth/gatehouse/pkg/backend/kerberos"
)

// CheckMutualReply checks a server's mutual-authentication answer as a
// client must (kerberos.CheckReply), with the session key of the ticket
// for Service that the client (curl, through kinit's cache) holds in
// ccache. curl does not check it; this does.
func CheckMutualReply(tb testing.TB, ccache, authorization, reply string) {
	tb.Helper()
	cc, err := credentials.LoadCCache(ccache)
	if err != nil {
		tb.Fatal(err)
	}
	cred, ok := cc.GetEntry(types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "HTTP/localhost"))
	if !ok {
		tb.Fatal(fmt.Errorf("no ticket for %s in %s", Service, ccache))
	}
	if err := kerberos.CheckReply(cred.Key, authorization, reply); err != nil {
		tb.Errorf("mutual authentication: %v", err)
	}
}
