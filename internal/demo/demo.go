// Package demo holds the gateway's bundled sample data — provider invoice
// files (two CSV, one XLSX) with good and bad lines, and the plan's
// reference files (provider roster; enrollment and authorizations when
// present) — and writes them out for `calgw demo`.
package demo

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed data
var data embed.FS

// marker identifies a directory the demo made and may therefore replace.
const marker = ".calgw-demo"

// Inputs writes the bundled invoice files into dir and returns their paths.
func Inputs(dir string) ([]string, error) { return writeDir("data/invoices", dir) }

// Reference writes the bundled reference file name (e.g. "roster.csv") into
// dir and returns its path, or "" when the demo has no such file.
func Reference(dir, name string) (string, error) {
	b, err := data.ReadFile("data/" + name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, b, 0o640)
}

func writeDir(src, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(data, src)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		b, err := data.ReadFile(src + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, e.Name())
		if err := os.WriteFile(p, b, 0o640); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// Reset empties dir for a new demo run. It refuses to delete a directory
// that a demo did not create.
func Reset(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return create(dir)
	}
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		entries, _ := os.ReadDir(dir)
		if len(entries) > 0 {
			return fmt.Errorf("%s exists and was not made by calgw demo; choose another --out", dir)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return create(dir)
}

func create(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, marker), []byte("made by calgw demo; deleted and remade by each demo run\n"), 0o640)
}

// PlanName and PlanCodes are the demo's plan identity for the monthly
// monitoring file when the configuration names no plan: a made-up name,
// and made-up 3-character plan codes for the demo's counties (Fresno 10,
// Los Angeles 19, San Francisco 38). They are not DHCS's codes.
const PlanName = "DEMOPLAN"

// PlanCodes maps the demo's counties to made-up plan codes.
func PlanCodes() map[string]string { return map[string]string{"10": "910", "19": "919", "38": "938"} }
