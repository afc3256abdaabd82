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

/// Reads lines ending in LF, CRLF or a lone CR (old Mac files and some Windows tools): the
/// file's first line break decides which, so a CR inside a line of an LF file stays text and
/// every line of a CR-only file gets its own number.
class LineReader
{
public:
    explicit LineReader(std::istream& in)
        : m_in(in)
    {
    }
    /// The next line without its ending; `bytes` is what it takes in the file, ending included.
    /// False at the end.
    bool next(std::string& line, std::int64_t& bytes);

private:
    std::istream& m_in;
    char m_end = 0; ///< '\n' (LF or CRLF) or '\r'; 0 until the first line break
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

    /// The next record; false at the end. A record the parser rejects comes back with `error`
    /// set: a quoted field still open at the end of the file, or one whose next line reads as a
    /// record of its own (as many fields as the header, well formed): a quote left open in a
    /// record-per-line export would otherwise swallow the records that follow into one field.
    /// That record is given back alone (with the lines it took) and reading goes on at the line
    /// that looks like a record.
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
