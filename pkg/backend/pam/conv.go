//go:build pam

package pam

import (
	"log/slog"

	"github.com/msteinert/pam/v2"
)

// conversation answers libpam's prompts for one transaction: the password
// for every PAM_PROMPT_ECHO_OFF prompt (as st2 does), the user name for
// PAM_PROMPT_ECHO_ON. Messages are logged at debug level and dropped.
// Binary prompts never get here: the pam package fails them (PAM_CONV_ERR).
type conversation struct {
	user, password string
	log            *slog.Logger
}

var _ pam.ConversationHandler = (*conversation)(nil)

// RespondPAM implements pam.ConversationHandler.
func (c *conversation) RespondPAM(style pam.Style, msg string) (string, error) {
	switch style {
	case pam.PromptEchoOff:
		return c.password, nil
	case pam.PromptEchoOn:
		return c.user, nil
	case pam.ErrorMsg, pam.TextInfo:
		c.log.Debug("pam message", slog.Int("style", int(style)), slog.String("text", msg))
	}
	return "", nil
}
