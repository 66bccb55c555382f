package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// checkFileKeys reports the keys written in the file that Gatehouse does
// not know, and sections written as single values. What is inside a known
// key (backend_kwargs' options, or a mapping where a number belongs) is
// checked when that key is decoded.
func (l *loader) checkFileKeys(path string, file map[string]fileKey) {
	known := structKeys(Config{})
	sections := map[string]bool{}
	for k := range known {
		sections[strings.Split(k, ".")[0]] = true
	}
	for _, key := range slices.Sorted(maps.Keys(file)) {
		fk := file[key]
		src := Source{Kind: FromFile, Name: path, Line: fk.line}
		switch {
		case known[key] || underKnownKey(key, known):
		case sections[key]:
			if !fk.section && !fk.null {
				l.fail(key, src, errors.New("must be a section with keys under it, not a single value"))
			}
		case fk.section: // an unknown mapping: each key in it is reported
		case !l.ini && strings.HasPrefix(key, "auth.") && st2AuthOnly[strings.TrimPrefix(key, "auth.")]:
			l.fail(key, src, errors.New("st2's own option, which Gatehouse does not use: remove it (an st2.conf may keep it)"))
		default:
			l.fail(key, src, l.unknownKey(key, known))
		}
	}
}

// unknownKey says that key is unknown, with the known key it most likely
// meant.
func (l *loader) unknownKey(key string, known map[string]bool) error {
	if l.ini && strings.HasPrefix(key, "gatehouse.") {
		return errors.New("unknown key: [gatehouse] holds only database_url")
	}
	if s := closestKey(key, known); s != "" {
		return fmt.Errorf("unknown key (did you mean %s?)", s)
	}
	return errors.New("unknown key")
}

// closestKey returns the known key nearest to key, comparing whole keys
// and also names alone (port written under the wrong section), or "" when
// none is within two edits.
func closestKey(key string, known map[string]bool) string {
	leaf := key[strings.LastIndex(key, ".")+1:]
	best, bestDist := "", 3
	for _, k := range slices.Sorted(maps.Keys(known)) {
		d := min(editDistance(key, k), editDistance(leaf, k[strings.LastIndex(k, ".")+1:]))
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// underKnownKey reports whether key lies inside a known key's value
// (auth.backend_kwargs.file_path, or auth.port.x when port is a mapping).
func underKnownKey(key string, known map[string]bool) bool {
	for i := strings.LastIndex(key, "."); i > 0; i = strings.LastIndex(key[:i], ".") {
		if known[key[:i]] {
			return true
		}
	}
	return false
}

// knownKeys returns every dotted key of Config, sorted.
func knownKeys() []string {
	return slices.Sorted(maps.Keys(structKeys(Config{})))
}
