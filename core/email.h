// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

/// Header fields in order, values unfolded and decoded to UTF-8 (RFC 2047 words included).
struct Headers {
    struct Field {
        std::string name;
        std::string value;
    };
    std::vector<Field> fields;

    /// First value of `name` (case-insensitive), empty when absent. A reference, not a copy: the
    /// readers ask for a dozen fields of every message, most only to look into them.
    const std::string& get(std::string_view name) const;
    bool has(std::string_view name) const;
};

/// A bounce email as MIME sees it. Built by parseEmail(); everything after is plain C++.
struct Email {
    Headers headers;
    std::string body; ///< the human-readable text: text/plain parts (else text/html as text)
    std::string deliveryStatus; ///< message/delivery-status (or global-delivery-status) text
    std::string feedbackReport; ///< message/feedback-report text
    std::optional<Headers> original; ///< headers of the returned message (message/rfc822, text/rfc822-headers)
    std::string originalBody; ///< first text part of the returned message, when attached
    std::string reportType; ///< report-type parameter of a multipart/report
    /// A bounce forwarded inside this message (a person's "Fwd:" with the bounce attached as
    /// message/rfc822), as bytes, when this message is no report itself: read in its place.
    std::string forwardedBounce;
};

/// True when a header block is an automaton's report: sent by a mailer daemon or postmaster, or
/// typed multipart/report, or with a bounce's subject. A message with such headers attached to a
/// person's mail is a forwarded bounce; a bounce's own returned message almost never is one. A
/// bounce's subject behind a person's reply or forward prefix (isPersonsSubject) is no sign.
bool isReportHeaders(const Headers& headers);

/// A subject without the tags gateways and filters put in front of it on the way to the reader
/// ("[External] ", "*****SPAM***** ", "[SPAM] ", "EXTERNAL: "), trimmed.
std::string_view withoutSubjectTags(std::string_view subject);

/// True when the subject starts (after withoutSubjectTags) with a mail client's reply or forward
/// prefix ("Fwd:", "WG:", "TR:", "RV:", "Re:", "AW:" …): a person wrote it, even when the rest is
/// a bounce's subject, as "WG: Unzustellbar: …" or "Fwd: Undelivered Mail Returned to Sender" are.
bool isPersonsSubject(std::string_view subject);

/// Parses one message with GMime: charsets (ISO-2022-JP, Shift_JIS, EUC-JP, UTF-7, windows-125x,
/// KOI8-R, undeclared 8-bit), encoded words, transfer encodings, any line ending, an mbox
/// "From " line at the top. Never throws on malformed mail; returns nullopt only when the
/// bytes hold no message at all (empty or no header).
std::optional<Email> parseEmail(std::string_view bytes);

/// A leaf part of a message as sent: its bytes with the transfer encoding (base64,
/// quoted-printable) undone and no charset conversion, so an attached zip or gzip file comes back
/// byte for byte.
struct Attachment {
    std::string contentType; ///< lower case "application/zip"
    std::string filename; ///< Content-Disposition filename (or Content-Type name), may be empty
    std::string bytes;
};

/// The leaf parts of one message (a whole message as the top part too), in order; the parts of
/// an attached message (message/rfc822) are left out. Empty when the bytes hold no message.
std::vector<Attachment> attachmentsOf(std::string_view message);

/// Parses a block of header lines (an inline copy of the returned message) the same way.
Headers parseHeaderBlock(std::string_view text);

/// An RFC 5322 date ("Thu, 24 Apr 2013 00:00:00 +0900") as ISO 8601 UTC ("2013-04-23T15:00:00Z");
/// empty when it cannot be read.
std::string isoTimestamp(std::string_view rfc5322Date);

/// Converts bytes in `charset` to UTF-8; falls back to UTF-8 validation and common charsets.
std::string toUtf8(std::string_view bytes, std::string_view charset);

} // namespace bt
