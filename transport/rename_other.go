//go:build !linux

package transport

// renameNoReplace renames from to to, failing with fs.ErrExist if to exists. Without
// renameat2 the check and the rename are two steps.
func renameNoReplace(from, to string) error { return renameCheckFirst(from, to) }
