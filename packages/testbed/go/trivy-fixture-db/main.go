// Command trivy-fixture-db writes a small Trivy vulnerability database (trivy.db + metadata.json)
// into <cache-dir>/db with Trivy's own DB library, in the layout `trivy --skip-db-update
// --cache-dir <cache-dir>` reads. It holds a few real GitHub advisories for Go modules, so tests
// can scan Go binaries and source trees offline without the public 1 GB database.
//
// Usage: trivy-fixture-db <cache-dir>
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/bucket"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	bolt "go.etcd.io/bbolt"
)

// advisory is one real GitHub advisory of a Go module.
type advisory struct {
	id, pkg, title string
	severity       types.Severity
	vulnerable     []string
	patched        []string
	url            string
}

var advisories = []advisory{
	{
		id: "CVE-2022-32149", pkg: "golang.org/x/text", severity: types.SeverityHigh,
		title:      "golang: golang.org/x/text/language: ParseAcceptLanguage takes a long time to parse complex tags",
		vulnerable: []string{"< 0.3.8"}, patched: []string{"0.3.8"},
		url: "https://avd.aquasec.com/nvd/cve-2022-32149",
	},
	{
		id: "CVE-2021-38561", pkg: "golang.org/x/text", severity: types.SeverityHigh,
		title:      "golang: out-of-bounds read in golang.org/x/text/language leads to DoS",
		vulnerable: []string{"< 0.3.7"}, patched: []string{"0.3.7"},
		url: "https://avd.aquasec.com/nvd/cve-2021-38561",
	},
	{
		id: "CVE-2022-41723", pkg: "golang.org/x/net", severity: types.SeverityHigh,
		title:      "net/http, golang.org/x/net/http2: avoid quadratic complexity in HPACK decoding",
		vulnerable: []string{"< 0.7.0"}, patched: []string{"0.7.0"},
		url: "https://avd.aquasec.com/nvd/cve-2022-41723",
	},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: trivy-fixture-db <cache-dir>")
		os.Exit(2)
	}
	if err := write(filepath.Join(os.Args[1], "db")); err != nil {
		fmt.Fprintln(os.Stderr, "trivy-fixture-db:", err)
		os.Exit(1)
	}
}

func write(dbDir string) error {
	if err := db.Init(dbDir); err != nil {
		return err
	}
	defer db.Close()
	dbc := db.Config{}
	source := types.DataSource{ID: vulnerability.GHSA, Name: "GitHub Security Advisory Go", URL: "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Ago"}
	goBucket, err := bucket.NewGo(source)
	if err != nil {
		return err
	}
	err = dbc.BatchUpdate(func(tx *bolt.Tx) error {
		if err := dbc.PutDataSource(tx, goBucket.Name(), source); err != nil {
			return err
		}
		for _, a := range advisories {
			adv := types.Advisory{VulnerableVersions: a.vulnerable, PatchedVersions: a.patched}
			if err := dbc.PutAdvisory(tx, []string{goBucket.Name(), a.pkg}, a.id, adv); err != nil {
				return err
			}
			vuln := types.Vulnerability{
				Title:          a.title,
				Severity:       a.severity.String(),
				VendorSeverity: types.VendorSeverity{vulnerability.GHSA: a.severity},
				References:     []string{a.url},
			}
			if err := dbc.PutVulnerability(tx, a.id, vuln); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Fixed timestamps: the database's age is what a test of it reads.
	updated := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	return metadata.NewClient(dbDir).Update(metadata.Metadata{
		Version:      db.SchemaVersion,
		UpdatedAt:    updated,
		NextUpdate:   updated.Add(24 * time.Hour),
		DownloadedAt: updated,
	})
}
