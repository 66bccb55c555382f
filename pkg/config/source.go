package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Source says where a configuration value came from, so that a problem
// can name the line or variable to fix.
type Source struct {
	Kind SourceKind
	// Name is the file's path as given to Load (FromFile), the variable's
	// name (FromEnv) or the flag with its dashes (FromFlag).
	Name string
	// Line is the line of the file the key is written on; 0 if unknown.
	Line int
}

// SourceKind is the layer a value came from. The zero value,
// SourceUnknown, is what a Config built in code (not by Load) has.
type SourceKind int

// The layers, from lowest to highest precedence.
const (
	SourceUnknown SourceKind = iota
	FromDefault              // nothing set the key: Default()'s value
	FromFile                 // the configuration file
	FromEnv                  // a GATEHOUSE_* environment variable
	FromFlag                 // a flag set on the command line
)

// String returns "default", "FILE:LINE", "environment variable NAME",
// "flag --NAME", or "" for SourceUnknown.
func (s Source) String() string {
	switch s.Kind {
	case FromDefault:
		return "default"
	case FromFile:
		if s.Line > 0 {
			return fmt.Sprintf("%s:%d", s.Name, s.Line)
		}
		return s.Name
	case FromEnv:
		return "environment variable " + s.Name
	case FromFlag:
		return "flag " + s.Name
	}
	return ""
}

// fileKey is a dotted key written in the configuration file.
type fileKey struct {
	line    int
	section bool // its value is a mapping of further keys
	null    bool // written without a value: viper then uses the default
}

// envName is the environment variable Load reads for key.
func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// origins says, for each of keys, which layer viper takes its value from:
// a flag set on the command line, else a non-empty environment variable
// (viper ignores empty ones), else the file, else the default.
func origins(keys []string, path string, file map[string]fileKey, fs *pflag.FlagSet) map[string]Source {
	flags := map[string]string{}
	for _, f := range flagKeys {
		if fs != nil {
			if fl := fs.Lookup(f.flag); fl != nil && fl.Changed {
				flags[f.key] = "--" + f.flag
			}
		}
	}
	out := make(map[string]Source, len(keys))
	for _, k := range keys {
		fk, inFile := file[k]
		switch {
		case flags[k] != "":
			out[k] = Source{Kind: FromFlag, Name: flags[k]}
		case os.Getenv(envName(k)) != "":
			out[k] = Source{Kind: FromEnv, Name: envName(k)}
		case inFile && !fk.null:
			out[k] = Source{Kind: FromFile, Name: path, Line: fk.line}
		default:
			out[k] = Source{Kind: FromDefault}
		}
	}
	return out
}

// yamlKeys lists every dotted key of a YAML (or JSON) document with its
// line, lower-cased as viper reads keys. A document that does not parse
// gives nil: viper has already reported why.
func yamlKeys(b []byte) map[string]fileKey {
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	out := map[string]fileKey{}
	walkYAML(doc.Content[0], "", out)
	return out
}

func walkYAML(n *yaml.Node, prefix string, out map[string]fileKey) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if k.Tag == "!!merge" { // "<<: *base" or "<<: [*a, *b]" brings their keys here
			walkYAML(v, prefix, out)
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					walkYAML(m, prefix, out)
				}
			}
			continue
		}
		key := prefix + strings.ToLower(k.Value)
		out[key] = fileKey{line: k.Line, section: v.Kind == yaml.MappingNode, null: v.Tag == "!!null"}
		walkYAML(v, key+".", out)
	}
}
