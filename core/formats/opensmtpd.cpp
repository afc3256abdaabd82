// SPDX-License-Identifier: MIT
// OpenSMTPD: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseOpenSmtpd(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
