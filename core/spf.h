// SPDX-License-Identifier: MIT
#pragma once

#include "dns.h"

#include <string>
#include <vector>

namespace bt::spf
{

/// RFC 7208 section 2.6 results.
enum class Result { None, Neutral, Pass, Fail, SoftFail, TempError, PermError };

/// "pass", "fail", "softfail", "neutral", "none", "permerror", "temperror".
const char* resultName(Result r);

/// What evaluating a domain's SPF record found.
struct Evaluation {
    Result result = Result::None;
    std::string domain;
    std::string record; ///< the domain's own v=spf1 record (empty when none)
    dns::Status status = dns::Status::Error; ///< how the lookup of the domain's TXT records ended
    int lookups = 0; ///< DNS-querying terms used (include, a, mx, ptr, exists, redirect); limit 10
    int voidLookups = 0; ///< lookups that found nothing; limit 2
    std::string matched; ///< the term that decided, as written ("-all", "include:_spf.example.net")
    std::string matchedIn; ///< the domain whose record holds that term
    std::string reason; ///< why the result is what it is, in plain words
    std::vector<std::string> notes; ///< ptr used (discouraged), unknown modifiers …
    std::vector<std::string> domains; ///< every domain whose record was read, in order
};

/// check_host() of RFC 7208: may `ip` send mail for `domain`? `sender` is the MAIL FROM address
/// (for the %{s}, %{l}, %{o} macros); empty means postmaster@domain. The resolver's deadline and
/// cancel flag bound the whole evaluation.
Evaluation checkHost(dns::Resolver& resolver, const std::string& ip, const std::string& domain,
                     const std::string& sender = {});

/// Reads the record and every include and redirect without a sending IP (nothing but `all`
/// matches), to count lookups and find syntax errors, loops and dead includes. The result is
/// permerror or temperror when the record is broken, else the result of its `all` (or neutral).
Evaluation inspect(dns::Resolver& resolver, const std::string& domain);

} // namespace bt::spf
