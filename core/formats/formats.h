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
/// Parses an RFC 3464 delivery-status text into the report (per-message and per-recipient fields).
void parseDeliveryStatus(std::string_view text, BounceReport& report);
/// Strips "rfc822;" and angle brackets from an address field.
std::string cleanAddress(std::string_view value);
/// Every e-mail address in s, in order, without duplicates.
std::vector<std::string> findAddresses(std::string_view s);

// The modules.
bool parseArf(const Email&, BounceReport&);
bool parseAutoReply(const Email&, BounceReport&);
bool parseRfc3464(const Email&, BounceReport&);
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
