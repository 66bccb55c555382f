package httpapi

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/pkg/auth"
)

// parseNewUser reads POST /auth/v1/users' body.
func parseNewUser(r *http.Request) (auth.NewUser, error) {
	body, err := readObject(r)
	if err != nil {
		return auth.NewUser{}, err
	}
	var in auth.NewUser
	if in.Name, err = optString(body, "name"); err != nil {
		return in, err
	}
	if in.Password, err = optString(body, "password"); err != nil {
		return in, err
	}
	if in.PasswordHash, err = optString(body, "password_hash"); err != nil {
		return in, err
	}
	if in.Password == "" && in.PasswordHash == "" {
		return in, badRequest("password is required.")
	}
	ch, err := userFields(body)
	if err != nil {
		return in, err
	}
	in.Active = ch.Active
	in.MustChangePassword = ch.MustChangePassword != nil && *ch.MustChangePassword
	if ch.Groups != nil {
		in.Groups = *ch.Groups
	}
	if ch.Extra != nil {
		in.Extra = *ch.Extra
	}
	return in, nil
}

// parseUserChange reads PUT /auth/v1/users/{name}'s body: any field but
// the name, which cannot change (a name in the body is ignored).
func parseUserChange(r *http.Request) (auth.UserChange, error) {
	body, err := readObject(r)
	if err != nil {
		return auth.UserChange{}, err
	}
	ch, err := userFields(body)
	if err != nil {
		return ch, err
	}
	if _, ok := body["password"]; ok {
		pw, err := optString(body, "password")
		if err != nil {
			return ch, err
		}
		ch.Password = &pw
	}
	return ch, nil
}

// userFields reads the optional fields shared by create and update.
func userFields(body map[string]any) (auth.UserChange, error) {
	var ch auth.UserChange
	var err error
	if ch.Active, err = optBool(body, "active"); err != nil {
		return ch, err
	}
	if ch.MustChangePassword, err = optBool(body, "must_change_password"); err != nil {
		return ch, err
	}
	if v, ok := body["groups"]; ok && v != nil {
		groups, err := stringList(v)
		if err != nil {
			return ch, err
		}
		ch.Groups = &groups
	}
	extra, err := optObject(body, "extra")
	if err != nil {
		return ch, err
	}
	if extra != nil {
		ch.Extra = &extra
	}
	return ch, nil
}

func optBool(obj map[string]any, name string) (*bool, error) {
	v, ok := obj[name]
	if !ok || v == nil {
		return nil, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return nil, badRequest("%s is not of type 'boolean'", pyRepr(v))
	}
	return &b, nil
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, badRequest("%s is not of type 'array'", pyRepr(v))
	}
	out := make([]string, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, badRequest("%s is not of type 'string'", pyRepr(item))
		}
		out[i] = s
	}
	return out, nil
}
