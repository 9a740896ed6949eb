// Package controllers wires the manager's controllers: credentials (AuthUser
// and AuthClient into the credential store) and signingkeys (the token
// servers' signing-keys Secret). Setup registers both and the manager's
// metrics.
package controllers
