// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

namespace bt
{

/// One CSV record with where it stands in the file.
struct CsvRow {
    std::vector<std::string> fields;
    std::int64_t line = 0; ///< 1-based line where the record starts
    std::int64_t offset = 0; ///< byte offset where the record starts
    std::string raw; ///< the record's text as in the file (quoted newlines included)
};

/// Streams CSV records with libcsv (quoted fields, quoted newlines, doubled quotes), one
/// physical line at a time so each record keeps its line number and raw text and a file larger
/// than memory is never held whole. A UTF-8 BOM at the start is skipped.
class CsvReader
{
public:
    /// `delimiter` 0 = detect from the first line (comma, semicolon or tab).
    explicit CsvReader(std::istream& in, char delimiter = 0);
    ~CsvReader();
    CsvReader(const CsvReader&) = delete;
    CsvReader& operator=(const CsvReader&) = delete;

    /// The next record; false at the end. A record the parser rejects (an unterminated quote
    /// at the end of the file) comes back with `error` set.
    bool next(CsvRow& row, std::string& error);
    char delimiter() const { return m_delim; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::istream& m_in;
    char m_delim;
};

/// The delimiter a header line uses: the most frequent of , ; and tab outside quotes.
char detectDelimiter(const std::string& headerLine);

} // namespace bt
