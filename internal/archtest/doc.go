// Package archtest holds the tests that keep the module's layout: cmd/calgw
// imports only pipelines, config and its printing helpers (internal/term,
// internal/progress) and the early signal catcher; no package has an init
// function (what the binary contains is listed in literal tables). That
// the codecs under edi/ import no policy is edi/x12's deps_test.go.
package archtest
