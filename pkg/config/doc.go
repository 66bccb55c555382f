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
// Load fails only when the configuration cannot be read or decoded (an
// unreadable file, malformed INI, a port that is not a number, bad JSON in
// backend_kwargs). Everything else, including unknown keys in a YAML file, is
// reported by Validate, all problems at once.
//
// Only cmd/ and this package import viper; everything else gets plain structs.
package config
