package kdctest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// CheckMutualReply checks a server's mutual-authentication answer as a
// client must (RFC 4120 §3.2.5): the AP-REP in reply (a `WWW-Authenticate:
// Negotiate <base64>` value) decrypts with the session key of the ticket
// for Service that the client holds in ccache, and carries the very time
// of the authenticator the client sent in authorization (`Negotiate
// <base64>`). curl does not check it; this does.
func CheckMutualReply(tb testing.TB, ccache, authorization, reply string) {
	tb.Helper()
	if err := checkMutualReply(ccache, authorization, reply); err != nil {
		tb.Errorf("mutual authentication: %v", err)
	}
}

func checkMutualReply(ccache, authorization, reply string) error {
	cc, err := credentials.LoadCCache(ccache)
	if err != nil {
		return err
	}
	cred, ok := cc.GetEntry(types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "HTTP/localhost"))
	if !ok {
		return fmt.Errorf("no ticket for %s in %s", Service, ccache)
	}
	apreq, err := sentAPReq(authorization)
	if err != nil {
		return err
	}
	if err := apreq.DecryptAuthenticator(cred.Key); err != nil {
		return fmt.Errorf("the authenticator sent: %w", err)
	}
	rep, err := repliedAPRep(reply)
	if err != nil {
		return err
	}
	plain, err := crypto.DecryptEncPart(rep.EncPart, cred.Key, keyusage.AP_REP_ENCPART)
	if err != nil {
		return fmt.Errorf("the AP-REP does not decrypt with the session key: %w", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return err
	}
	a := apreq.Authenticator
	if !part.CTime.Equal(a.CTime) || part.Cusec != a.Cusec {
		return fmt.Errorf("the AP-REP says %v.%06d, the authenticator %v.%06d", part.CTime, part.Cusec, a.CTime, a.Cusec)
	}
	return nil
}

func negotiateBytes(header string) ([]byte, error) {
	scheme, b64, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Negotiate") {
		return nil, fmt.Errorf("%q is no Negotiate header with a token", header)
	}
	return base64.StdEncoding.DecodeString(b64)
}

func sentAPReq(authorization string) (messages.APReq, error) {
	raw, err := negotiateBytes(authorization)
	if err != nil {
		return messages.APReq{}, err
	}
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(raw); err != nil || !st.Init {
		return messages.APReq{}, fmt.Errorf("the Authorization sent is no NegTokenInit: %v", err)
	}
	var mt spnego.KRB5Token
	if err := mt.Unmarshal(st.NegTokenInit.MechTokenBytes); err != nil || !mt.IsAPReq() {
		return messages.APReq{}, fmt.Errorf("the Authorization sent holds no AP-REQ: %v", err)
	}
	return mt.APReq, nil
}

func repliedAPRep(reply string) (messages.APRep, error) {
	raw, err := negotiateBytes(reply)
	if err != nil {
		return messages.APRep{}, err
	}
	var resp spnego.NegTokenResp
	if err := resp.Unmarshal(raw); err != nil {
		return messages.APRep{}, fmt.Errorf("the reply is no NegTokenResp: %w", err)
	}
	if resp.NegState != 0 {
		return messages.APRep{}, fmt.Errorf("the reply's negState is %d, not accept-completed", resp.NegState)
	}
	var mt spnego.KRB5Token
	if err := mt.Unmarshal(resp.ResponseToken); err != nil || !mt.IsAPRep() {
		return messages.APRep{}, fmt.Errorf("the reply holds no AP-REP: %v", err)
	}
	return mt.APRep, nil
}
