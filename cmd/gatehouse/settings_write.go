package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse-auth/gatehouse/pkg/atomicfile"
)

// newConfigHeader starts a settings file that login creates.
const newConfigHeader = `# Gatehouse client settings (see docs/CLI.md). 'gatehouse login --url URL'
# records the server it logged in to here; flags and GATEHOUSE_* variables
# win over this file, which wins over st2's ~/.st2/config.
`

// rememberServer records in Gatehouse's settings file the server (and CA
// file) given with --url (and --cacert), so that later commands use them
// without the flags. It says so on w.
func rememberServer(s settings, w io.Writer) error {
	var changed []string
	for _, kv := range []struct {
		key string
		set setting
	}{{"url", s.url}, {"cacert", s.cacert}} {
		if kv.set.level != fromFlag || kv.set.value == s.config["general"][kv.key] {
			continue
		}
		value := kv.set.value
		if kv.key == "cacert" {
			if abs, err := filepath.Abs(value); err == nil {
				value = abs
			}
		}
		if err := setINIValue(s.configPath, "general", kv.key, value); err != nil {
			return err
		}
		changed = append(changed, kv.key+" = "+value)
	}
	switch {
	case len(changed) == 1 && strings.HasPrefix(changed[0], "url = "):
		fmt.Fprintf(w, "Remembered %s as the server in %s.\n", s.url.value, s.configPath)
	case len(changed) > 0:
		fmt.Fprintf(w, "Remembered %s in %s.\n", strings.Join(changed, ", "), s.configPath)
	}
	return nil
}

// setINIValue sets key in [section] of the INI file at path and keeps every
// other line, comments included. A missing file (and its directory) is
// made, 0600 (0700).
func setINIValue(path, section, key, value string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = []byte(newConfigHeader), nil
	}
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	line := key + " = " + strings.ReplaceAll(value, "$", "$$")
	out := setINILine(strings.Split(strings.TrimRight(string(data), "\n"), "\n"), section, key, line)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return writeFileAtomic(path, []byte(strings.Join(out, "\n")+"\n"))
}

// setINILine replaces key's line (and its continuation lines) in
// [section], or adds line at the end of the section, or adds the section.
func setINILine(lines []string, section, key, line string) []string {
	start, end := iniSection(lines, section)
	if start < 0 {
		return append(lines, "", "["+section+"]", line)
	}
	for i := start + 1; i < end; i++ {
		if iniKey(lines[i]) != key {
			continue
		}
		j := i + 1
		for j < end && lines[j] != "" && (lines[j][0] == ' ' || lines[j][0] == '\t') {
			j++
		}
		return append(append(append([]string{}, lines[:i]...), line), lines[j:]...)
	}
	last := end
	for last > start+1 && strings.TrimSpace(lines[last-1]) == "" {
		last--
	}
	return append(append(append([]string{}, lines[:last]...), line), lines[last:]...)
}

// iniSection is the index of [section]'s header line (-1 when absent) and
// of the line after its last line.
func iniSection(lines []string, section string) (start, end int) {
	start = -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") {
			continue
		}
		if start >= 0 {
			return start, i
		}
		if strings.EqualFold(strings.TrimSpace(t[1:len(t)-1]), section) {
			start = i
		}
	}
	return start, len(lines)
}

// iniKey is the lower-cased key of a "key = value" line, or "".
func iniKey(l string) string {
	if l == "" || l[0] == ' ' || l[0] == '\t' || l[0] == '#' || l[0] == ';' {
		return ""
	}
	i := strings.IndexAny(l, "=:")
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(l[:i]))
}

// writeFileAtomic replaces path with a 0600 file holding data.
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}
