// Package config loads Gatehouse's configuration from a YAML file or an
// st2-style INI file (an existing /etc/st2/st2.conf works unchanged),
// environment variables GATEHOUSE_<SECTION>_<KEY> and flags, in rising order
// of precedence, and validates it.
//
// Typical use in cmd/:
//
//	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
//	config.BindFlags(fs)
//	_ = fs.Parse(os.Args[1:])
//	cfg, err := config.Load(configPath, fs)
//	if err == nil {
//		err = cfg.Validate(registry.Names())
//	}
//
// Load fails only when the file cannot be read or parsed (a missing file,
// malformed YAML or INI). Everything else is reported by Validate, all
// problems at once, one a line, each with the key, where its value came
// from and what is wrong:
//
//	auth.token_ttl (environment variable GATEHOUSE_AUTH_TOKEN_TTL): "abc" is not a whole number of seconds
//	auth.token_tll (/etc/st2/st2.conf:47): unknown key (did you mean auth.token_ttl?)
//	auth.port (flag --port): must be between 0 (any free port) and 65535, got 70000
//
// Values of the wrong type, keys Gatehouse does not know (in YAML, and in
// st2.conf's [auth], [throttle] and [gatehouse]) and values that break a
// rule are all in that one list.
//
// Only cmd/ and this package import viper; everything else gets plain structs.
package config
