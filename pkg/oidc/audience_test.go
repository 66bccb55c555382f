package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc"
	"github.com/gatehouse-auth/gatehouse/pkg/oidc/hydratest"
)

// TestIDTokenForAnotherAudience: an ID token the same provider signed for
// another client is refused by the audience check, even with the right
// nonce; the same checks accept one signed for Gatehouse's client.
func TestIDTokenForAnotherAudience(t *testing.T) {
	e := newEnv(t, hydratest.Options{}, nil)
	other := e.hydra.CreateClient("http://127.0.0.1/callback")
	ours, err := oidc.New(oidc.Config{Issuer: e.hydra.Issuer, ClientID: e.client.ID, ClientSecret: e.client.Secret,
		RedirectURL: "http://127.0.0.1/unused"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const nonce = "a-nonce-for-this-test-only-0123456789"
	idToken := func(c hydratest.Client) string {
		d, err := gooidc.NewProvider(t.Context(), e.hydra.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		conf := &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: d.Endpoint(),
			RedirectURL: "http://127.0.0.1:45680/callback", Scopes: []string{"openid", "profile", "groups"}}
		cb := e.atProvider(conf.AuthCodeURL("state-of-the-test-0123456789", gooidc.Nonce(nonce)))
		tok, err := conf.Exchange(context.WithValue(t.Context(), oauth2.HTTPClient, http.DefaultClient), cb.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		return tok.Extra("id_token").(string)
	}
	_, err = ours.VerifyIDToken(t.Context(), idToken(other), nonce)
	if !errors.Is(err, backend.ErrInvalidCredentials) || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("an ID token for another client: %v, want an audience refusal", err)
	}
	id, err := ours.VerifyIDToken(t.Context(), idToken(e.client), nonce)
	if err != nil || id.Username != "alice" {
		t.Fatalf("an ID token for our client: %+v %v", id, err)
	}
	if _, err := ours.VerifyIDToken(t.Context(), idToken(e.client), "another-nonce"); !errors.Is(err, backend.ErrInvalidCredentials) {
		t.Fatalf("a wrong nonce: %v", err)
	}
}
