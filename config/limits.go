package config

// Limits bound the work, memory and output one input file may take, so that
// a hostile or broken file is refused instead of read (docs/hostile-input.md).
// Past a limit the file is refused with an error naming the limit and the
// position. A zero or absent value takes its default.
type Limits struct {
	// CSVRecordBytes is the most bytes of one CSV record. Default 1 MiB.
	CSVRecordBytes int `yaml:"csv_record_bytes"`
	// FieldsPerRow is the most fields of a CSV record or cells of a sheet
	// row. Default 16,384 (Excel's column limit).
	FieldsPerRow int `yaml:"fields_per_row"`
	// LoopSegments is the most X12 segments in one loop iteration (from
	// its trigger to the next loop's): an 834 member loop of a million REF
	// segments is refused. Default 10,000.
	LoopSegments int `yaml:"loop_segments"`
	// FindingsPerFile is the most problems reported for one file, in
	// `calgw validate`'s output and an ingest's report; the rest are
	// counted in one last line ("N more"). Default 10,000.
	FindingsPerFile int `yaml:"findings_per_file"`
	// RejectsPerFile is the most rejected lines of one invoice file: past
	// it the file is refused whole (fix it and send it again). Default
	// 100,000.
	RejectsPerFile int `yaml:"rejects_per_file"`
	// RosterSites is the most sites (data rows) of one provider roster: a
	// roster is checked whole before it is loaded, so its sites are held
	// in memory; past it the file is refused. Default 200,000.
	RosterSites int `yaml:"roster_sites"`
}

// The defaults of Limits.
const (
	DefaultCSVRecordBytes  = 1 << 20
	DefaultFieldsPerRow    = 1 << 14
	DefaultLoopSegments    = 10000
	DefaultFindingsPerFile = 10000
	DefaultRejectsPerFile  = 100000
	DefaultRosterSites     = 200000
)

// WithDefaults returns l with each zero or negative value set to its
// default.
func (l Limits) WithDefaults() Limits {
	for _, f := range []struct {
		v   *int
		def int
	}{{&l.CSVRecordBytes, DefaultCSVRecordBytes}, {&l.FieldsPerRow, DefaultFieldsPerRow}, {&l.LoopSegments, DefaultLoopSegments},
		{&l.FindingsPerFile, DefaultFindingsPerFile}, {&l.RejectsPerFile, DefaultRejectsPerFile},
		{&l.RosterSites, DefaultRosterSites}} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	return l
}
