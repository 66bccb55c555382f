package ui

import "testing"

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "/ui/",
		"/app/x?y=1":         "/app/x?y=1",
		"//evil.example":     "/ui/",
		"https://evil":       "/ui/",
		"/\\evil.example":    "/ui/",
		"javascript:alert()": "/ui/",
		"/ok\r\nSet-Cookie:": "/ui/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
