package authserver

import "testing"

func TestCanonicalIssuer(t *testing.T) {
	for raw, want := range map[string]string{
		"https://auth.example.com":       "https://auth.example.com",
		"https://auth.example.com/":      "https://auth.example.com",
		"HTTPS://Auth.Example.COM":       "https://auth.example.com",
		"https://auth.example.com:8443/": "https://auth.example.com:8443",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"https://[::1]:8443":             "https://[::1]:8443",
	} {
		got, err := canonicalIssuer(raw, true)
		if err != nil || got != want {
			t.Errorf("canonicalIssuer(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"", "auth.example.com", "https://", "https://auth.example.com?", "https://auth.example.com/?",
		"https://auth.example.com#", "https://auth.example.com/#x", "https://auth.example.com?a=b",
		"https://auth.example.com//", "https://auth.example.com/tenant", "https://user:pw@auth.example.com",
		"ftp://auth.example.com", "https:auth.example.com", "https://auth.example.com/%2F",
	} {
		if got, err := canonicalIssuer(raw, true); err == nil {
			t.Errorf("canonicalIssuer(%q) = %q, want an error", raw, got)
		}
	}
	if _, err := canonicalIssuer("http://auth.example.com", false); err == nil {
		t.Error("http issuer accepted without AllowHTTPIssuer")
	}
}
