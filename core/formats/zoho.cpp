// SPDX-License-Identifier: MIT
// Zoho Mail: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseZoho(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
