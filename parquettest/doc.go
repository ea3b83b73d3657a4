// Package parquettest checks gotrace's Parquet tables with DuckDB: it
// exports the bundled traces with the gotrace binary and compares what SQL
// over the tables counts and sums with gotrace stats --json and gotrace
// goroutines --json on the same traces.
//
// It is a module of its own because the DuckDB driver needs cgo, and
// gotrace itself does not: `make test-parquet` runs it.
package parquettest
