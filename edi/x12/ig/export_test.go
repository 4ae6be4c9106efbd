package ig

// ReadAheadAfter returns o set to read ahead once n bytes are read (-1: at
// once), so that tests cover the read-ahead with small inputs.
func ReadAheadAfter(o Options, n int64) Options {
	o.readAheadAfter = n
	return o
}

// Split returns o set for ValidateAt to split into parts parts of at least
// minPart bytes.
func Split(o Options, parts int, minPart int64) Options {
	o.splitParts, o.splitMinPart = parts, minPart
	return o
}
