package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// output is how a command that shows a server's answer prints it, with
// st2's habits: -j JSON, -y YAML, -a ATTR only those attributes (in any
// format; without -j or -y, as a table).
type output struct {
	json, yaml bool
	attrs      []string
}

// addOutputFlags adds -j, -y and -a.
func addOutputFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolP("json", "j", false, "print the server's JSON")
	f.BoolP("yaml", "y", false, "print the server's answer as YAML")
	f.StringSliceP("attr", "a", nil, "show only this attribute (repeatable, or comma-separated; a.b looks inside an object)")
	cmd.MarkFlagsMutuallyExclusive("json", "yaml")
}

// outputOf reads the output flags of cmd.
func outputOf(cmd *cobra.Command) output {
	var o output
	o.json, _ = cmd.Flags().GetBool("json")
	o.yaml, _ = cmd.Flags().GetBool("yaml")
	o.attrs, _ = cmd.Flags().GetStringSlice("attr")
	return o
}

// custom reports whether the flags ask for anything but the command's own
// human-readable form.
func (o output) custom() bool { return o.json || o.yaml || len(o.attrs) > 0 }

// print writes raw, a JSON object or a list of objects, as o asks.
func (o output) print(w io.Writer, raw []byte) error {
	items, list, err := splitItems(raw)
	if err != nil {
		return err
	}
	if len(o.attrs) > 0 {
		if items, err = selectAttrs(items, o.attrs); err != nil {
			return err
		}
		raw = joinItems(items, list)
	}
	switch {
	case o.json:
		return printJSON(w, raw)
	case o.yaml:
		return printYAML(w, raw)
	case list:
		return printTable(w, items, o.attrs)
	}
	return printRows(w, items[0], o.attrs)
}

// splitItems parses raw as one object (list false) or a list of them.
func splitItems(raw []byte) (items []json.RawMessage, list bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		err = json.Unmarshal(raw, &items)
		return items, true, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, false, fmt.Errorf("unexpected answer: not a JSON object: %w", err)
	}
	return []json.RawMessage{raw}, false, nil
}

func joinItems(items []json.RawMessage, list bool) []byte {
	if !list {
		return items[0]
	}
	b := []byte{'['}
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

// selectAttrs keeps attrs of each object, in the order given. An attribute
// that no object has is an error naming the ones there are.
func selectAttrs(items []json.RawMessage, attrs []string) ([]json.RawMessage, error) {
	seen := make([]bool, len(attrs))
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		var b bytes.Buffer
		b.WriteByte('{')
		for j, a := range attrs {
			v, ok := lookup(it, a)
			if !ok {
				v = json.RawMessage("null")
			}
			seen[j] = seen[j] || ok
			if j > 0 {
				b.WriteByte(',')
			}
			name, _ := json.Marshal(a)
			b.Write(name)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		out[i] = b.Bytes()
	}
	for j, ok := range seen {
		if !ok && len(items) > 0 {
			return nil, fmt.Errorf("no attribute %q; attributes: %s", attrs[j], strings.Join(objectKeys(items[0]), ", "))
		}
	}
	return out, nil
}

// lookup finds attr in obj: a member by that name, else a path of members
// separated by dots ("authentication.method").
func lookup(obj json.RawMessage, attr string) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return nil, false
	}
	if v, ok := m[attr]; ok {
		return v, true
	}
	head, rest, ok := strings.Cut(attr, ".")
	if v, found := m[head]; ok && found {
		return lookup(v, rest)
	}
	return nil, false
}

// objectKeys are obj's member names in the order they were sent.
func objectKeys(obj json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
		keys = append(keys, t.(string))
	}
	return keys
}

// cell shows one JSON value in a table: a string as it is, null as
// nothing, anything else as compact JSON.
func cell(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil || b.String() == "null" {
		return ""
	}
	return b.String()
}

// printTable writes a list of objects as columns attrs (upper-cased).
func printTable(w io.Writer, items []json.RawMessage, attrs []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(attrs, "\t")))
	for _, it := range items {
		row := make([]string, len(attrs))
		for i, a := range attrs {
			v, _ := lookup(it, a)
			row[i] = cell(v)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// printRows writes one object as name/value rows: attrs, or every member.
func printRows(w io.Writer, obj json.RawMessage, attrs []string) error {
	if len(attrs) == 0 {
		attrs = objectKeys(obj)
	}
	rows := make([][2]string, len(attrs))
	for i, a := range attrs {
		v, _ := lookup(obj, a)
		rows[i] = [2]string{a, cell(v)}
	}
	return printFields(w, rows)
}

// printYAML writes a JSON answer as block-style YAML, members in the order
// the server sent them.
func printYAML(w io.Writer, raw []byte) error {
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		return fmt.Errorf("unexpected answer: %w", err)
	}
	if n.Kind == 0 {
		return errors.New("unexpected answer: empty")
	}
	blockStyle(&n)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	return enc.Close()
}

// blockStyle drops the flow style and quoting JSON gave every node; the
// encoder quotes what needs it.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}
