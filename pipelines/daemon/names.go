package daemon

import (
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxNameBytes is the longest file name (one path element) the daemon
// writes: 255 bytes, the limit of Linux file systems and of the SFTP and
// S3-compatible servers that store on them.
const maxNameBytes = 255

// fitName shortens name to at most limit bytes by cutting the end of the
// part before keep (at a UTF-8 boundary), so that keep, the end of the name
// that says what the file is (the ledger ID and the suffix, an
// extension), stays whole. A name that fits is returned as it is.
func fitName(name, keep string, limit int) string {
	if len(name) <= limit {
		return name
	}
	if !strings.HasSuffix(name, keep) || len(keep) >= limit {
		keep = ""
	}
	stem := name[:len(name)-len(keep)]
	cut := limit - len(keep)
	for cut > 0 && cut < len(stem) && !utf8.RuneStart(stem[cut]) {
		cut--
	}
	return stem[:cut] + keep
}

// idPrefixed is name prefixed with the ledger ID ("<id>-<name>", the
// claimed file's name, or an archived one's when the plain name is taken),
// shortened to fit, its extension kept.
func idPrefixed(id int64, name string) string {
	return fitName(strconv.FormatInt(id, 10)+"-"+name, path.Ext(name), maxNameBytes)
}

// fitOutputName shortens an output's name for its destination (limit: the
// bytes left after an encryption ending), keeping ".<id>." and what follows
// (<stem>.<id>.rejects.csv keeps .<id>.rejects.csv), or else its extension.
func fitOutputName(name string, id int64, limit int) string {
	keep := path.Ext(name)
	if i := strings.LastIndex(name, "."+strconv.FormatInt(id, 10)+"."); i > 0 {
		keep = name[i:]
	}
	return fitName(name, keep, limit)
}
