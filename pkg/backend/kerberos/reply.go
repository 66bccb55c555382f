package kerberos

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// CheckReply is the client's half of mutual authentication (RFC 4120
// §3.2.5): the AP-REP in reply (a `WWW-Authenticate: Negotiate <base64>`
// value) must decrypt with the ticket's session key and carry the very
// time of the authenticator the client sent in authorization (`Negotiate
// <base64>`). Only a server holding the service's key can produce it.
// gatehouse login --kerberos and the tests use it.
func CheckReply(sessionKey types.EncryptionKey, authorization, reply string) error {
	apreq, err := sentAPReq(authorization)
	if err != nil {
		return err
	}
	if err := apreq.DecryptAuthenticator(sessionKey); err != nil {
		return fmt.Errorf("the authenticator sent: %w", err)
	}
	rep, err := repliedAPRep(reply)
	if err != nil {
		return err
	}
	plain, err := crypto.DecryptEncPart(rep.EncPart, sessionKey, keyusage.AP_REP_ENCPART)
	if err != nil {
		return fmt.Errorf("the server's reply does not decrypt with the session key: %w", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return err
	}
	a := apreq.Authenticator
	if !part.CTime.Equal(a.CTime) || part.Cusec != a.Cusec {
		return fmt.Errorf("the server's reply says %v.%06d, the authenticator %v.%06d", part.CTime, part.Cusec, a.CTime, a.Cusec)
	}
	return nil
}

func negotiateBytes(header string) ([]byte, error) {
	scheme, b64, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Negotiate") {
		return nil, fmt.Errorf("%q is no Negotiate header with a token", header)
	}
	return base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
}

func sentAPReq(authorization string) (messages.APReq, error) {
	raw, err := negotiateBytes(authorization)
	if err != nil {
		return messages.APReq{}, err
	}
	apreq, _, err := parseToken(raw)
	if err != nil {
		return messages.APReq{}, fmt.Errorf("the Authorization sent holds no AP-REQ: %w", err)
	}
	return apreq, nil
}

func repliedAPRep(reply string) (messages.APRep, error) {
	raw, err := negotiateBytes(reply)
	if err != nil {
		return messages.APRep{}, fmt.Errorf("no mutual-authentication reply: %w", err)
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
