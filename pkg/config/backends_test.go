package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

// TestBackendsChain reads auth.backends from YAML, from st2.conf's JSON
// string and from the environment, and reports bad chains.
func TestBackendsChain(t *testing.T) {
	known := []string{"flat_file", "ldap", "local", "pam"}
	want := []config.BackendSpec{
		{Name: "ldap", Kwargs: map[string]any{"host": "ldap.example.org", "port": 389}},
		{Name: "flat_file", Kwargs: map[string]any{"file_path": "/etc/gatehouse/breakglass"}},
	}
	const js = `[{"name": "ldap", "kwargs": {"host": "ldap.example.org", "port": 389}}, {"name": "flat_file", "kwargs": {"file_path": "/etc/gatehouse/breakglass"}}]`
	for _, tc := range []struct {
		name, file, content, env string
		want                     []config.BackendSpec
		wantErr                  string
	}{
		{name: "YAML list", file: "g.yaml", content: "auth:\n  backends:\n    - name: ldap\n      kwargs: {host: ldap.example.org, port: 389}\n    - name: flat_file\n      kwargs: {file_path: /etc/gatehouse/breakglass}\n  break_glass_users: [admin]\n", want: want},
		{name: "INI JSON", file: "st2.conf", content: "[auth]\nbackends = " + js + "\nbreak_glass_users = admin\n", want: want},
		{name: "env JSON", env: js, want: want},
		{name: "none is a chain of one", file: "g.yaml", content: "auth:\n  backend: local\n"},
		{name: "unknown name", file: "g.yaml", content: "auth:\n  backends: [{name: nope}]\n", wantErr: `unknown backend "nope"`},
		{name: "twice", file: "g.yaml", content: "auth:\n  backends: [{name: local}, {name: local}]\n", wantErr: `backend "local" is listed twice`},
		{name: "pam not last", file: "g.yaml", content: "auth:\n  backends: [{name: pam}, {name: local}]\n", wantErr: "pam cannot tell whether it knows a user name, so it must be the last"},
		{name: "unknown entry key", file: "g.yaml", content: "auth:\n  backends: [{name: local, kwarg: {}}]\n", wantErr: `unknown key "kwarg"`},
		{name: "bad JSON", file: "st2.conf", content: "[auth]\nbackends = [{name: ldap}]\n", wantErr: "must be a JSON list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			if tc.env != "" {
				t.Setenv("GATEHOUSE_AUTH_BACKENDS", tc.env)
			}
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file, tc.content)
			}
			cfg, err := config.Load(path, nil)
			if err == nil {
				err = cfg.Validate(known)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Auth.Backends, tc.want) {
				t.Errorf("Backends = %#v, want %#v", cfg.Auth.Backends, tc.want)
			}
			if tc.want == nil && (len(cfg.Auth.Chain()) != 1 || cfg.Auth.Chain()[0].Name != "local") {
				t.Errorf("Chain() = %#v, want local alone", cfg.Auth.Chain())
			}
		})
	}
}
