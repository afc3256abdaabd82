// SPDX-License-Identifier: MIT
#include "timechart.h"

#include "utils/familycolors.h"
#include "utils/plaintext.h"

#include <QAreaSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QCursor>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QSet>
#include <QStackedBarSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>

using namespace Qt::StringLiterals;

TimeChart::TimeChart(QWidget* parent)
    : ChartView(parent)
{
    setObjectName(u"timeChart"_s);
}

void TimeChart::setSeries(const std::vector<bt::TimeBucket>& data, const std::vector<bt::Incident>& incidents,
                          bool hourly, const std::vector<bt::Listing>& listings)
{
    m_data = data;
    m_incidents = incidents;
    m_listings = listings;
    m_hourly = hourly;
    m_spansYears = !m_data.empty() && m_data.front().bucket.substr(0, 4) != m_data.back().bucket.substr(0, 4);
    rebuild();
}

QString TimeChart::labelOf(const QString& b, int brevity) const
{
    if (m_hourly) {
        if (brevity >= 1)
            return b.mid(11, 2) + u"h"_s;
        return (m_spansYears ? b.left(10) : b.mid(5, 5)) + u' ' + b.mid(11, 2) + u"h"_s;
    }
    if (!m_spansYears)
        return brevity >= 2 ? b.mid(8, 2) : b.mid(5);
    return brevity >= 2 ? b.left(4) : brevity == 1 ? b.left(7) : b.left(10);
}

TimeChart::AxisLayout TimeChart::axisLayout() const
{
    // Qt Charts gives each label of a category axis the axis width / (labels + 1) less 2 x 5 px
    // of padding, and cuts a longer one to "...". The value axes on either side take ~50 px each
    // (the deliveries' only where there are any). The first form of the label that leaves room
    // for two labels wins, then as many as fit.
    const QFontMetrics fm(QValueAxis().labelsFont());
    const bool deliveries
        = std::any_of(m_data.begin(), m_data.end(), [](const bt::TimeBucket& b) { return b.deliveries > 0; });
    const int plot = viewport()->width() - (deliveries ? 110 : 60);
    const QString sample = m_data.empty() ? u"2026-01-01T00"_s : QString::fromStdString(m_data.back().bucket);
    const auto fit = [&](int brevity) { return plot / (fm.horizontalAdvance(labelOf(sample, brevity)) + 14) - 1; };
    int brevity = 0;
    while (brevity < 2 && fit(brevity) < 2)
        ++brevity;
    return {std::clamp(fit(brevity), 1, 8), brevity};
}

void TimeChart::fitToSize()
{
    if (!m_data.empty() && axisLayout() != m_axis)
        rebuild();
}

void TimeChart::rebuild()
{
    const std::vector<bt::Incident>& incidents = m_incidents;
    const bool hourly = m_hourly;
    QChart* c = chart();
    clearChart();
    m_buckets.clear();
    m_axisLabels.clear();
    m_spans.clear();
    m_listingBands.clear();
    if (m_data.empty()) {
        c->setTitle(tr("No bounces in this selection"));
        applyPalette();
        return;
    }
    c->setTitle(hourly ? tr("Bounces per hour (UTC)") : tr("Bounces per day (UTC)"));

    auto* bars = new QStackedBarSeries;
    QStringList labels;
    double maxBounces = 0, maxDeliveries = 0;
    // A category axis would give every bar a label and elide them all once they do not fit:
    // a value axis with labels on as many buckets as the width holds stays readable.
    m_axis = axisLayout();
    const auto fits = static_cast<std::size_t>(m_axis.labels);
    const int step = std::max<int>(1, static_cast<int>((m_data.size() + fits - 1) / fits));
    for (std::size_t i = 0; i < m_data.size(); ++i) {
        const QString b = QString::fromStdString(m_data[i].bucket);
        m_buckets.append(b);
        if (static_cast<int>(i) % step == 0) {
            labels.append(labelOf(b, m_axis.brevity));
            m_axisLabels.append(labels.back());
        } else {
            labels.append(QString());
        }
        maxBounces = std::max(maxBounces, static_cast<double>(m_data[i].bounces));
        maxDeliveries = std::max(maxDeliveries, static_cast<double>(m_data[i].deliveries));
    }
    for (const QString& family : btui::families()) {
        const std::string f = family.toStdString();
        bool any = false;
        QList<qreal> values;
        for (const auto& b : m_data) {
            const auto it = b.families.find(f);
            const double n = it == b.families.end() ? 0.0 : static_cast<double>(it->second);
            any = any || n > 0;
            values.append(n);
        }
        if (!any)
            continue;
        auto* set = new QBarSet(family);
        set->append(values);
        set->setColor(btui::familyColor(family));
        set->setBorderColor(btui::familyColor(family));
        bars->append(set);
    }
    bars->setBarWidth(0.85);
    c->addSeries(bars);

    auto* axisX = new QCategoryAxis;
    axisX->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    axisX->setRange(-0.5, static_cast<double>(m_data.size()) - 0.5);
    for (qsizetype i = 0; i < labels.size(); ++i)
        if (!labels.at(i).isEmpty())
            axisX->append(labels.at(i), static_cast<double>(i));
    axisX->setGridLineVisible(false);
    auto* axisY = new QValueAxis;
    setCountRange(axisY, maxBounces * 1.15);
    axisY->setTitleText(tr("bounces"));
    c->addAxis(axisX, Qt::AlignBottom);
    c->addAxis(axisY, Qt::AlignLeft);
    bars->attachAxis(axisX);
    bars->attachAxis(axisY);

    if (maxDeliveries > 0) {
        auto* line = new QLineSeries;
        line->setName(tr("deliveries"));
        for (std::size_t i = 0; i < m_data.size(); ++i)
            line->append(static_cast<double>(i), static_cast<double>(m_data[i].deliveries));
        line->setPen(QPen(palette().color(QPalette::Text), 1.5));
        c->addSeries(line);
        // A point of the line drills into its bucket, all families.
        connect(line, &QLineSeries::clicked, this, [this](const QPointF& p) {
            const int i = qRound(p.x());
            if (i >= 0 && i < m_buckets.size())
                Q_EMIT bucketClicked(m_buckets.at(i), QString());
        });
        auto* axisD = new QValueAxis;
        setCountRange(axisD, maxDeliveries * 1.15);
        axisD->setTitleText(tr("deliveries"));
        c->addAxis(axisD, Qt::AlignRight);
        line->attachAxis(axisX);
        line->attachAxis(axisD);
    }

    // Blocklist listings: from the first bucket at or after the listing to the last at or before
    // the delisting (the end of the chart while still listed), full height, in their own colour.
    QColor listedShade(0x61, 0x35, 0x83);
    listedShade.setAlphaF(0.14f);
    for (const auto& l : m_listings) {
        const int width = hourly ? 13 : 10;
        const QString listed = QString::fromStdString(l.listed).left(width);
        const QString delisted = QString::fromStdString(l.delisted).left(width);
        int from = -1, to = -1;
        for (int i = 0; i < m_buckets.size(); ++i) {
            if (m_buckets.at(i) >= listed && from < 0)
                from = i;
            if (delisted.isEmpty() || m_buckets.at(i) <= delisted)
                to = i;
        }
        if (from < 0 || to < from)
            continue; // the listing falls outside the events on the chart
        auto* upper = new QLineSeries;
        auto* lower = new QLineSeries;
        upper->append(from - 0.5, axisY->max());
        upper->append(to + 0.5, axisY->max());
        lower->append(from - 0.5, 0);
        lower->append(to + 0.5, 0);
        auto* area = new QAreaSeries(upper, lower);
        area->setName(tr("listed on %1").arg(QString::fromStdString(l.zone)));
        area->setColor(listedShade);
        area->setBorderColor(QColor(0x61, 0x35, 0x83));
        c->addSeries(area);
        area->attachAxis(axisX);
        area->attachAxis(axisY);
        m_listingBands.append({from, to});
    }

    if (!incidents.empty()) {
        // Each incident's span, from its first to its last bucket, shaded behind the bars.
        QColor shade(0xc0, 0x1c, 0x28);
        shade.setAlphaF(0.12f);
        for (const auto& inc : incidents) {
            const int from
                = static_cast<int>(m_buckets.indexOf(QString::fromStdString(inc.bucket).left(hourly ? 13 : 10)));
            const int to = static_cast<int>(m_buckets.indexOf(
                QString::fromStdString(inc.end.empty() ? inc.bucket : inc.end).left(hourly ? 13 : 10)));
            if (from < 0 || to < from)
                continue;
            auto* upper = new QLineSeries;
            auto* lower = new QLineSeries;
            const double top = axisY->max();
            upper->append(from - 0.5, top);
            upper->append(to + 0.5, top);
            lower->append(from - 0.5, 0);
            lower->append(to + 0.5, 0);
            auto* area = new QAreaSeries(upper, lower);
            area->setName(tr("incident span"));
            area->setColor(shade);
            area->setBorderColor(Qt::transparent);
            c->addSeries(area);
            area->attachAxis(axisX);
            area->attachAxis(axisY);
            m_spans.append({from, to});
        }
        auto* marks = new QScatterSeries;
        marks->setName(tr("incident"));
        marks->setMarkerShape(QScatterSeries::MarkerShapeTriangle);
        marks->setMarkerSize(11);
        marks->setColor(QColor(0xc0, 0x1c, 0x28));
        marks->setBorderColor(QColor(0xc0, 0x1c, 0x28));
        QSet<int> marked;
        for (const auto& inc : incidents) {
            // Incidents come hourly; on a daily axis they sit on their day.
            const QString b = QString::fromStdString(inc.bucket).left(hourly ? 13 : 10);
            const int i = static_cast<int>(m_buckets.indexOf(b));
            if (i < 0 || marked.contains(i))
                continue;
            marked.insert(i);
            marks->append(i, static_cast<double>(m_data[static_cast<std::size_t>(i)].bounces) + maxBounces * 0.06);
        }
        c->addSeries(marks);
        // An incident marker drills into its bucket and the incident's family.
        connect(marks, &QScatterSeries::clicked, this, [this](const QPointF& p) {
            const bool hourly = m_hourly;
            const int i = qRound(p.x());
            if (i < 0 || i >= m_buckets.size())
                return;
            QString family;
            for (const auto& inc : m_incidents)
                if (QString::fromStdString(inc.bucket).left(hourly ? 13 : 10) == m_buckets.at(i))
                    family = QString::fromStdString(inc.family);
            Q_EMIT bucketClicked(m_buckets.at(i), family);
        });
        marks->attachAxis(axisX);
        marks->attachAxis(axisY);
    }

    // Families, deliveries and incidents are named in the legend beside the charts (TriageView).
    c->legend()->setVisible(false);

    connect(bars, &QStackedBarSeries::clicked, this, [this](int index, QBarSet* set) {
        if (index >= 0 && index < m_buckets.size())
            Q_EMIT bucketClicked(m_buckets.at(index), set ? set->label() : QString());
    });
    connect(bars, &QStackedBarSeries::hovered, this, [this](bool on, int index, QBarSet* set) {
        if (!on || index < 0 || index >= m_buckets.size() || !set) {
            QToolTip::hideText();
            return;
        }
        const auto& b = m_data[static_cast<std::size_t>(index)];
        const auto it = b.families.find(set->label().toStdString());
        QString text = tr("%1 \u2014 %2: %3 of %4 bounces")
                           .arg(m_buckets.at(index), set->label())
                           .arg(it == b.families.end() ? 0 : it->second)
                           .arg(b.bounces);
        if (b.deliveries)
            text += tr("\n%1 deliveries").arg(b.deliveries);
        text += tr("\nClick to drill down");
        QToolTip::showText(QCursor::pos(), btui::plainToolTip(text), this);
    });
    applyPalette();
}
