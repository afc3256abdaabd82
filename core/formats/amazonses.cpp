// SPDX-License-Identifier: MIT
// Amazon SES, Amazon WorkMail and SES receiving: its own bounce text. Returns false (the generic reader takes over)
// until written.
#include "formats.h"

namespace bt::formats
{

bool parseAmazonSes(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
