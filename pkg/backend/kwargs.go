package backend

import (
	"errors"
	"strings"

	"github.com/go-viper/mapstructure/v2"
)

// KwargsOptions tunes DecodeKwargs for one backend.
type KwargsOptions struct {
	// WeaklyTyped accepts strings for numbers and booleans ("389",
	// "true"), as values from an st2.conf INI file arrive.
	WeaklyTyped bool
	// Hook converts values before they are stored (durations, say).
	Hook mapstructure.DecodeHookFunc
}

// DecodeKwargs decodes st2-style backend_kwargs into out, a pointer to a
// config struct with mapstructure tags, usually filled with defaults
// first. An unknown option, or a value of the wrong type, is an error that
// names it, on one line.
func DecodeKwargs(kwargs map[string]any, out any, opts KwargsOptions) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       opts.Hook,
		ErrorUnused:      true,
		WeaklyTypedInput: opts.WeaklyTyped,
		Result:           out,
		RootName:         "backend_kwargs",
	})
	if err != nil {
		return err
	}
	return OneLine(dec.Decode(kwargs))
}

// OneLine puts the errors of errors.Join (and of mapstructure, which joins
// them) on one line, keeping them for errors.Is and errors.As, so that a
// start-up error is one log line.
func OneLine(err error) error {
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return err
	}
	return lineErrors(joined.Unwrap())
}

// lineErrors is several errors, printed on one line.
type lineErrors []error

func (e lineErrors) Error() string {
	msgs := make([]string, 0, len(e))
	for _, err := range e {
		msgs = append(msgs, err.Error())
	}
	return strings.Join(msgs, "; ")
}

func (e lineErrors) Unwrap() []error { return e }
