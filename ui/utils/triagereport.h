// SPDX-License-Identifier: MIT
#pragma once

#include "query.h"
#include "triage.h"

#include <QImage>
#include <QList>
#include <QString>

namespace bt
{
class KnowledgeBase;
} // namespace bt

namespace btui
{

/// The printable triage report of the filtered events as one self-contained HTML page: totals
/// with rate and level, the charts (PNG data: URIs), top providers, domains, sending IPs and
/// templates, incidents, lifted-later blocks and the recommended fixes in order, from the numbers
/// bt::Triage::report gave for `filter`. Every text from the workspace is escaped. `kb` may be
/// null (then the fixes list reasons without steps).
QString triageReportHtml(const bt::TriageReport& report, const bt::EventFilter& filter, const QList<QImage>& charts,
                         const bt::KnowledgeBase* kb);

/// The report's "Filter:" line: "provider: Gmail; from 2026-03-01T00:00:00Z"; "all events" when
/// empty.
QString reportFilterWords(const bt::EventFilter& filter);

/// Prints triageReportHtml()'s page to an A4 PDF file through QPrinter (its data: URI images
/// become document resources); false with `error` set on failure.
bool printReportToPdf(const QString& html, const QString& pdfPath, QString* error);

} // namespace btui
