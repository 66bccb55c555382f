package api_test

import (
	"bytes"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehouse-auth/gatehouse/api"
)

func TestSpecLoadsAndValidates(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Spec())
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
}

func TestSpecReturnsACopy(t *testing.T) {
	a := api.Spec()
	if len(a) == 0 {
		t.Fatal("Spec() is empty")
	}
	a[0] = 'X'
	if b := api.Spec(); bytes.Equal(a, b) {
		t.Fatal("changing the result of Spec() changed the embedded document")
	}
}
