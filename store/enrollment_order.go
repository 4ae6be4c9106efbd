package store

import (
	"encoding/json"
	"slices"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// EnrollmentFile is what an 834 says of itself, for its place among the
// 834s loaded before it (EnrollmentLoad.Place).
type EnrollmentFile struct {
	// Full is true for a full (audit) file, false for a change file.
	Full bool
	// Date is a change file's date, or a full file's period start (0:
	// unknown, the file is not placed among the others).
	Date civil.Date
	// PlanCodes are the HD04 health-plan codes of the file's coverage
	// loops ("" for a loop without one); none for a file without any.
	PlanCodes []string
}

func (f *EnrollmentFile) kind() string {
	if f.Full {
		return "full"
	}
	return "change"
}

// LoadRef names an 834 loaded before.
type LoadRef struct {
	Load int64
	File string     // the name it was loaded under
	Date civil.Date // a change file's date, a full file's period start
}

// FileOrder is where a change file stands among the 834 loads committed
// before it; zero for a full file.
type FileOrder struct {
	// SupersededBy is a full file whose period starts after the change
	// file's date, of a plan code the change file carries (of any code
	// when the change file carries none, or has a coverage loop without
	// one): the one whose period starts last. Nothing of the change file
	// is applied.
	SupersededBy *LoadRef
	// Newer is a change file applied before it with a later date, sharing
	// a plan code with it (a file without a code, or with a loop without
	// one, shares every code): the latest dated. The change file is
	// applied anyway.
	Newer *LoadRef
}

// placeFile decides a change file's FileOrder from the earlier 834 loads
// of a file kind ("full", "change") not superseded, which query hands to
// each, latest dated first, with their encoded plan codes, until each says
// to stop.
func placeFile(f EnrollmentFile, query func(fileKind string, each func(r LoadRef, codes string) (bool, error)) error) (FileOrder, error) {
	var order FileOrder
	if f.Full || f.Date == 0 {
		return order, nil
	}
	anyCode := len(f.PlanCodes) == 0 || slices.Contains(f.PlanCodes, "")
	err := query("full", func(full LoadRef, codes string) (bool, error) {
		if full.Date <= f.Date {
			return true, nil // its period starts on or before the file's date, and so do those after it
		}
		fullCodes, err := decodePlanCodes(codes)
		if err != nil {
			return true, err
		}
		if anyCode || sharesCode(f.PlanCodes, fullCodes) {
			order.SupersededBy = &full
			return true, nil
		}
		return false, nil
	})
	if err != nil || order.SupersededBy != nil {
		return order, err
	}
	err = query("change", func(newer LoadRef, codes string) (bool, error) {
		if newer.Date <= f.Date {
			return true, nil // dated on or before the file, and so are those after it
		}
		other, err := decodePlanCodes(codes)
		if err != nil {
			return true, err
		}
		if anyCode || len(other) == 0 || slices.Contains(other, "") || sharesCode(f.PlanCodes, other) {
			order.Newer = &newer
			return true, nil
		}
		return false, nil
	})
	return order, err
}

// eachLoad hands placeFile's query each load of rows (id, file,
// file_date, plan_codes), on either engine, until it says to stop.
func eachLoad(rows resultRows, each func(r LoadRef, codes string) (bool, error)) error {
	for rows.Next() {
		var r LoadRef
		var date int64
		var codes string
		if err := rows.Scan(&r.Load, &r.File, &date, &codes); err != nil {
			return err
		}
		r.Date = civil.Date(date)
		if stop, err := each(r, codes); stop || err != nil {
			return err
		}
	}
	return rows.Err()
}

func sharesCode(a, b []string) bool {
	for _, c := range a {
		if slices.Contains(b, c) {
			return true
		}
	}
	return false
}

// encodePlanCodes keeps a file's plan codes as a JSON array ("" for none).
func encodePlanCodes(codes []string) string {
	if len(codes) == 0 {
		return ""
	}
	b, _ := json.Marshal(codes)
	return string(b)
}

func decodePlanCodes(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var codes []string
	err := json.Unmarshal([]byte(s), &codes)
	return codes, err
}
