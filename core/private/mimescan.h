// SPDX-License-Identifier: MIT
#pragma once
// The byte scan behind parseEmail's fast path: it finds a message's header fields and MIME parts
// as views into the bytes, without building, copying or freeing a tree of objects. It reads
// only the plain shapes (well-formed multiparts, 7bit/8bit/base64/quoted-printable leaves,
// simple Content-Type parameters) and declines everything else, which GMime then reads as
// before: the two must agree on every message the scan accepts (email_test compares them on
// the whole corpus).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{
struct Email;
struct Headers;
} // namespace bt

namespace bt::mimescan
{

struct Field {
    std::string_view name;
    std::string_view raw; ///< the value as written after the colon, folding line breaks included
};

struct Message;

struct Part {
    enum class Kind { Leaf, Multipart, Message };
    enum class Encoding { Plain, Base64, QuotedPrintable };
    Kind kind = Kind::Leaf;
    std::vector<Field> fields; ///< the part's own header fields
    std::string type; ///< lower case "text/plain" (the default when undeclared)
    std::string charset; ///< the charset parameter as written, may be empty
    std::string reportType; ///< the report-type parameter as written, may be empty
    std::string boundary; ///< a multipart's boundary parameter
    Encoding encoding = Encoding::Plain;
    std::string_view content; ///< a leaf's bytes, transfer-encoded
    std::vector<Part> parts; ///< a multipart's parts in order
    std::unique_ptr<Message> message; ///< the message a message/rfc822 part holds
};

struct Message {
    std::vector<Field> fields;
    Part top; ///< the message's MIME part (its Content-* fields are among `fields`)
};

/// Scans a message whose line ends are LF only (parseEmail normalises them first). False when
/// the message has a shape the scan does not read exactly as GMime does.
bool scanMessage(std::string_view data, Message& out);

/// Scans a header block from the start of `data` up to its blank line (or the end). False on a
/// line that is neither a field nor a folded continuation.
bool scanFields(std::string_view data, std::vector<Field>& out, std::size_t& bodyStart);

/// A leaf's bytes with the transfer encoding undone, as GMime's decoders give them; false where
/// they might not (base64 that goes on after its padding, a quoted-printable "=" at the end).
bool decodeContent(const Part& part, std::string& out);

/// True when a raw header value needs GMime's RFC 2047 and 8-bit decoding (encoded words,
/// bytes outside ASCII); otherwise its unfolded, collapsed text is the value.
bool needsWordDecoding(std::string_view raw);

/// Which reader parseEmail and parseHeaderBlock use: the scan with GMime where it declines (what
/// they do), or one of the two alone, for the tests that hold the scan to GMime's reading.
enum class Reader { Either, ScanOnly, GMimeOnly };

/// parseEmail with the reader chosen; ScanOnly gives nullopt where the scan declines.
std::optional<Email> parseEmailWith(std::string_view raw, Reader reader);

/// parseHeaderBlock with the reader chosen; ScanOnly gives nullopt where the scan declines.
std::optional<Headers> parseHeaderBlockWith(std::string_view text, Reader reader);

} // namespace bt::mimescan
