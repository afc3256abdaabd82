// SPDX-License-Identifier: MIT
#include "timechart.h"

#include "utils/familycolors.h"
#include "utils/plaintext.h"

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
                          bool hourly)
{
    QChart* c = chart();
    clearChart();
    m_data = data;
    m_buckets.clear();
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
    // a value axis with labels on a few buckets only stays readable at any width.
    const int step = std::max<int>(1, static_cast<int>((m_data.size() + 4) / 5));
    for (std::size_t i = 0; i < m_data.size(); ++i) {
        const QString b = QString::fromStdString(m_data[i].bucket);
        m_buckets.append(b);
        if (static_cast<int>(i) % step == 0)
            labels.append(hourly ? b.mid(5, 5) + u' ' + b.mid(11, 2) + u"h"_s : b.mid(5));
        else
            labels.append(QString());
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
    axisY->setLabelFormat(u"%d"_s);
    axisY->setRange(0, std::max(1.0, maxBounces * 1.15));
    axisY->applyNiceNumbers();
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
        axisD->setLabelFormat(u"%d"_s);
        axisD->setRange(0, maxDeliveries * 1.15);
        axisD->applyNiceNumbers();
        axisD->setTitleText(tr("deliveries"));
        c->addAxis(axisD, Qt::AlignRight);
        line->attachAxis(axisX);
        line->attachAxis(axisD);
    }

    if (!incidents.empty()) {
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
        connect(marks, &QScatterSeries::clicked, this, [this, incidents, hourly](const QPointF& p) {
            const int i = qRound(p.x());
            if (i < 0 || i >= m_buckets.size())
                return;
            QString family;
            for (const auto& inc : incidents)
                if (QString::fromStdString(inc.bucket).left(hourly ? 13 : 10) == m_buckets.at(i))
                    family = QString::fromStdString(inc.family);
            Q_EMIT bucketClicked(m_buckets.at(i), family);
        });
        marks->attachAxis(axisX);
        marks->attachAxis(axisY);
    }

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
