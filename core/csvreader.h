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
///
/// A line longer than `maxLine` is not held whole: `line` gets its first `maxLine` bytes, the
/// rest is read past, `bytes` still counts all of it, and cut() says so. A stranger's file may
/// hold a line of any length; what reading it costs must not grow with it.
class LineReader
{
public:
    explicit LineReader(std::istream& in, std::size_t maxLine = std::size_t(-1))
        : m_in(in)
        , m_max(maxLine)
    {
    }
    /// The next line without its ending; `bytes` is what it takes in the file, ending included.
    /// False at the end.
    bool next(std::string& line, std::int64_t& bytes);
    /// The last line was longer than maxLine: `line` holds only its start.
    bool cut() const { return m_cut; }

private:
    std::istream& m_in;
    std::size_t m_max;
    bool m_cut = false;
    char m_end = 0; ///< '\n' (LF or CRLF) or '\r'; 0 until the first line break
    std::string m_chunk; ///< istream::getline's buffer for a piece of a line
};

/// The longest record an importer reads whole (a CSV record, a JSON record, a log line): real
/// ones take at most tens of KB. A longer one is rejected naming its line and size, and never
/// held whole (one 50 MB field used to cost 14 times its size).
inline constexpr std::size_t kMaxRecordBytes = 1 << 20;

/// "1.5 MB", "52428800 bytes" … for a reject's reason.
std::string byteSize(std::uint64_t bytes);

/// Streams CSV records with libcsv (quoted fields, quoted newlines, doubled quotes), one
/// physical line at a time so each record keeps its line number and raw text and a file larger
/// than memory is never held whole. A UTF-8 BOM at the start is skipped.
class CsvReader
{
public:
    /// `delimiter` 0 = detect from the first line (comma, semicolon or tab). A record longer
    /// than `maxRecord` bytes comes back with an error and without its fields (see next()).
    explicit CsvReader(std::istream& in, char delimiter = 0, std::size_t maxRecord = kMaxRecordBytes);
    ~CsvReader();
    CsvReader(const CsvReader&) = delete;
    CsvReader& operator=(const CsvReader&) = delete;

    /// The next record; false at the end. A record the parser rejects comes back with `error`
    /// set: a quoted field still open at the end of the file, or one whose next line reads as a
    /// record of its own (as many fields as the header, well formed): a quote left open in a
    /// record-per-line export would otherwise swallow the records that follow into one field.
    /// That record is given back alone (with the lines it took) and reading goes on at the line
    /// that looks like a record. A record longer than the reader's maxRecord is given back with
    /// `error` set, no fields and only the start of its text; the line that made it too long is
    /// read past without being held, and reading goes on at the next line.
    bool next(CsvRow& row, std::string& error);
    char delimiter() const { return m_delim; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl; ///< holds the stream (through its LineReader)
    char m_delim;
    std::size_t m_maxRecord;
};

/// The delimiter a header line uses: the most frequent of , ; and tab outside quotes.
char detectDelimiter(const std::string& headerLine);

} // namespace bt
