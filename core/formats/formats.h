// SPDX-License-Identifier: MIT
#pragma once

#include "bounce.h"
#include "email.h"

#include <string_view>
#include <vector>

/// One module per bounce format family. Each looks at a parsed email and, when it recognises
/// its format, fills the report and returns true. The registry tries them in order.
namespace bt::formats
{

using Parser = bool (*)(const Email& email, BounceReport& report);

struct Format {
    std::string_view name;
    Parser parse;
};

/// All modules, most specific first; "generic" last.
const std::vector<Format>& registry();

// Helpers shared by the modules (formats/common.cpp).

/// The text of the bounce before the returned copy of the original message starts.
std::string_view bodyBeforeOriginal(std::string_view body);
/// An inline copy of the original message's headers after a "below this line" marker, if any.
std::optional<Headers> inlineOriginal(std::string_view body);
/// Where a copy of the returned message's header block starts inside a bounce's text when no
/// marker says so ("Message headers follow.", "Original message headers:", "------- Returned
/// Message --------", or nothing at all): the first run of at least three header fields that
/// holds one of the fields every message has (Received, Message-ID, From, Subject …) and no
/// delivery-status field. npos when there is none.
std::size_t returnedHeadersStart(std::string_view text);
/// The fields of a delivery status report written into the text itself, when MIME did not give
/// it as a part (a boundary that does not match the header, a report pasted as text/plain, no
/// MIME at all): the paragraphs from the first "Reporting-MTA:", "Final-Recipient:" … field to the
/// last one that still holds only such fields. Empty unless a recipient block is among them.
std::string rawDeliveryStatus(std::string_view text);
/// True when the mention of an address at `pos` in `text` names it as something other than a
/// recipient: a Message-ID/References token, the sender of a listing ("From: a@b", "MAIL FROM:
/// a@b"), an authentication result ("smtp.mailfrom=a@b"), a Received line's "id <…>".
bool mentionIsNotRecipient(std::string_view text, std::size_t pos);
/// Parses an RFC 3464 delivery-status text into the report (per-message and per-recipient fields).
void parseDeliveryStatus(std::string_view text, BounceReport& report);
/// Strips "rfc822;" and angle brackets from an address field.
std::string cleanAddress(std::string_view value);
/// Every e-mail address in s, in order, without duplicates.
std::vector<std::string> findAddresses(std::string_view s);

// The modules.
bool parseArf(const Email&, BounceReport&);
bool parseAutoReply(const Email&, BounceReport&);
/// A mailing list manager's refusal of a post (Mailman, Sympa, LISTSERV): the list address failed.
bool parseListManager(const Email&, BounceReport&);
bool parseRfc3464(const Email&, BounceReport&);
/// The same from report fields written in the text when MIME gave no report part with a recipient.
bool parseRfc3464Text(const Email&, BounceReport&);
bool parseQmail(const Email&, BounceReport&);
bool parseExim(const Email&, BounceReport&);
bool parseSendmail(const Email&, BounceReport&);
bool parsePostfix(const Email&, BounceReport&);
bool parseExchange(const Email&, BounceReport&);
bool parseCourier(const Email&, BounceReport&);
bool parseOpenSmtpd(const Email&, BounceReport&);
bool parseDragonfly(const Email&, BounceReport&);
bool parseMessagingServer(const Email&, BounceReport&);
bool parseNotes(const Email&, BounceReport&);
/// Domino's own sentence about a recipient ("User x (a@b) not listed in Domino Directory") read
/// as the reason it states, or empty: in its text-only bounce and in its DSN's "X-Notes;" field.
std::string dominoReasonHint(std::string_view sentence);
bool parseApacheJames(const Email&, BounceReport&);
bool parseAmazonSes(const Email&, BounceReport&);
bool parseGoogleGroups(const Email&, BounceReport&);
bool parseGmail(const Email&, BounceReport&);
bool parseYahoo(const Email&, BounceReport&);
bool parseMailRu(const Email&, BounceReport&);
bool parseMcAfee(const Email&, BounceReport&);
bool parseMFilter(const Email&, BounceReport&);
bool parseZoho(const Email&, BounceReport&);
bool parseVerizon(const Email&, BounceReport&);
bool parseJapan(const Email&, BounceReport&);
bool parseGeneric(const Email&, BounceReport&);

} // namespace bt::formats
