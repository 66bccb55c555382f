// Package storetest is the conformance suite that every store.Store
// implementation runs, in the manner of dex's storage/conformance:
//
//	func TestStore(t *testing.T) {
//		storetest.RunTests(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// It also has helpers for tests elsewhere that must prove no plaintext
// token or API key reaches the database: AssertNoSecrets checks a dump,
// AssertStoreHasNoSecrets dumps a store that implements Dumper and checks it,
// and HashToken and HashAPIKey compute the stored forms of a secret.
package storetest
