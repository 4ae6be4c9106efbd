// Package archtest holds the tests that keep the module's layout: cmd/calgw
// imports only pipelines, config and printing helpers (internal/term) and the early signal catcher; the codecs under
// edi/ import no policy (rules); no built-in is registered from a package
// init function.
package archtest
