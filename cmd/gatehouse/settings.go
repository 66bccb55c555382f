package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/pkg/client"
	"github.com/gatehouse-auth/gatehouse/pkg/config"
)

// The environment the client commands read; flags win over it, and it
// wins over the settings files. Gatehouse's own variables win over st2's.
const (
	envURL       = "GATEHOUSE_URL"
	envCACert    = "GATEHOUSE_CACERT"
	envToken     = "GATEHOUSE_TOKEN"
	envAPIKey    = "GATEHOUSE_API_KEY"
	envST2Auth   = "ST2_AUTH_URL"
	envST2API    = "ST2_API_URL"
	envST2CACert = "ST2_CACERT"
	envST2Token  = "ST2_AUTH_TOKEN"
	envST2APIKey = "ST2_API_KEY"
	// envST2Config names st2's CLI configuration file, as for st2.
	envST2Config = "ST2_CONFIG_FILE"
)

// level is how strong the source of a setting is: flag > environment >
// Gatehouse's settings file > st2's > the default.
type level int

const (
	fromDefault level = iota
	fromST2Config
	fromConfig
	fromEnv
	fromFlag
)

// setting is one client setting and where it came from.
type setting struct {
	value string
	level level
	// st2 is true when the value is st2's: ST2_API_URL or [api] url. An
	// st2 API URL takes API key calls the way st2 sends them.
	st2 bool
}

// candidate is one possible source of a setting, tried in order.
type candidate struct {
	value string
	level level
	st2   bool
}

// first is the first candidate with a value, or the default.
func first(def string, cs ...candidate) setting {
	for _, c := range cs {
		if c.value != "" {
			return setting(c)
		}
	}
	return setting{value: def}
}

// settings are what the client commands run with: which server, which CA,
// and the user name and password of a [credentials] section.
type settings struct {
	url, apiURL, cacert setting
	// user and password come from one [credentials] section: Gatehouse's
	// when it names a user, else st2's.
	user, password string
	// configPath is Gatehouse's settings file (which may not exist yet).
	configPath string
	// config is its content, sections and keys lower-cased.
	config map[string]map[string]string
}

// loadSettings reads the flags, the environment, Gatehouse's settings file
// and st2's ~/.st2/config, in that order of precedence.
func loadSettings(cmd *cobra.Command) (settings, error) {
	path, err := cliConfigPath()
	if err != nil {
		return settings{}, err
	}
	gh, err := readINIFile(path)
	if err != nil {
		return settings{}, err
	}
	st2, err := readINIFile(st2ConfigPath())
	if err != nil {
		return settings{}, err
	}
	flag := func(name string) string {
		v, _ := cmd.Flags().GetString(name)
		return v
	}
	s := settings{configPath: path, config: gh}
	s.url = first(client.DefaultURL,
		candidate{value: flag("url"), level: fromFlag},
		candidate{value: os.Getenv(envURL), level: fromEnv},
		candidate{value: os.Getenv(envST2Auth), level: fromEnv},
		candidate{value: gh["general"]["url"], level: fromConfig},
		candidate{value: st2["auth"]["url"], level: fromST2Config})
	s.apiURL = first("",
		candidate{value: flag("url"), level: fromFlag},
		candidate{value: os.Getenv(envURL), level: fromEnv},
		candidate{value: os.Getenv(envST2API), level: fromEnv, st2: true},
		candidate{value: gh["general"]["url"], level: fromConfig},
		candidate{value: st2["api"]["url"], level: fromST2Config, st2: true})
	s.cacert = first("",
		candidate{value: flag("cacert"), level: fromFlag},
		candidate{value: os.Getenv(envCACert), level: fromEnv},
		candidate{value: os.Getenv(envST2CACert), level: fromEnv},
		candidate{value: gh["general"]["cacert"], level: fromConfig},
		candidate{value: st2["general"]["cacert"], level: fromST2Config})
	creds := gh["credentials"]
	if creds["username"] == "" {
		creds = st2["credentials"]
	}
	s.user, s.password = creds["username"], creds["password"]
	return s, nil
}

// newClient is a client of the configured server, with no credential yet.
func (s settings) newClient() (*client.Client, error) {
	opts := client.Options{CACertFile: s.cacert.value, UserAgent: "gatehouse-cli/" + version}
	if s.apiURL.st2 {
		opts.APIKeysURL = s.apiURL.value
	}
	return client.New(s.url.value, opts)
}

// cliConfigPath is Gatehouse's client settings file:
// os.UserConfigDir()/gatehouse/config, beside the token cache.
func cliConfigPath() (string, error) {
	c, err := client.DefaultCache()
	if err != nil {
		return "", err
	}
	return filepath.Join(c.Dir, "config"), nil
}

// st2ConfigPath is st2's CLI configuration: $ST2_CONFIG_FILE, else
// ~/.st2/config ("" when there is no home directory).
func st2ConfigPath() string {
	if p := os.Getenv(envST2Config); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".st2", "config")
}

// readINIFile parses an INI settings file; a missing file is empty.
func readINIFile(path string) (map[string]map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	sections, err := config.ParseINI(data)
	if err != nil {
		// The parser quotes the bad line, which may hold a password: say
		// only where it is.
		where := iniLineRe.FindString(err.Error())
		return nil, &explained{msg: fmt.Sprintf("%s: not a valid INI file (%s)", path, where), err: err}
	}
	return sections, nil
}

var iniLineRe = regexp.MustCompile(`^ini line \d+`)

// openCache is the token cache, with any cache of the first layout (one
// server for all) moved into the per-server one.
// openClientAndCache is where logout and passwd start: the settings, a
// client for the server they name, and the token cache.
func openClientAndCache(cmd *cobra.Command) (settings, *client.Client, client.Cache, error) {
	st, err := loadSettings(cmd)
	if err != nil {
		return st, nil, client.Cache{}, err
	}
	c, cache, err := st.clientAndCache()
	return st, c, cache, err
}

// clientAndCache is the client for the configured server and the token
// cache every login writes to.
func (st settings) clientAndCache() (*client.Client, client.Cache, error) {
	c, err := st.newClient()
	if err != nil {
		return nil, client.Cache{}, err
	}
	cache, err := openCache()
	return c, cache, err
}

func openCache() (client.Cache, error) {
	c, err := client.DefaultCache()
	if err != nil {
		return c, err
	}
	if err := c.Migrate(); err != nil {
		return c, fmt.Errorf("moving the token cache to its per-server layout: %w", err)
	}
	return c, nil
}
