// SPDX-License-Identifier: MIT
// Oracle/Sun Messaging Server: its own bounce text. Returns false (the generic reader takes over) until written.
#include "formats.h"

namespace bt::formats
{

bool parseMessagingServer(const Email&, BounceReport&)
{
    return false;
}

} // namespace bt::formats
