// SPDX-License-Identifier: MIT
#include "passratechart.h"

#include "utils/familycolors.h"
#include "utils/plaintext.h"

#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QCursor>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPalette>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace
{

/// Okabe-Ito blue, apart from the auth family's orange; its sky blue on a dark base, where the
/// deep blue is hard to see.
QColor rateColor(const QPalette& p)
{
    return p.color(QPalette::Base).lightness() < 128 ? QColor(0x56, 0xB4, 0xE9) : QColor(0x00, 0x72, 0xB2);
}

} // namespace

PassRateChart::PassRateChart(QWidget* parent)
    : ChartView(parent)
{
    setObjectName(u"passRateChart"_s);
}

void PassRateChart::setDays(std::vector<bt::DmarcDay> days, const QString& title)
{
    m_days = std::move(days);
    m_title = title;
    rebuild();
}

int PassRateChart::labelsThatFit() const
{
    // A category axis cuts a label that is wider than its share of the axis to "...": label
    // only as many days as fit, the two value axes taking ~60 px each.
    const QFontMetrics fm(QValueAxis().labelsFont());
    const int plot = viewport()->width() - 120;
    return std::clamp(plot / (fm.horizontalAdvance(u"2026-03-14"_s) + 16) - 1, 1, 31);
}

void PassRateChart::fitToSize()
{
    if (!m_days.empty() && (labelsThatFit() != m_labels || (viewport()->height() < 280) != m_low))
        rebuild();
}

void PassRateChart::changeEvent(QEvent* event)
{
    ChartView::changeEvent(event);
    // The line's colour follows the palette (applyPalette does axes and text only).
    if (event->type() == QEvent::PaletteChange && !m_days.empty())
        rebuild();
}

void PassRateChart::rebuild()
{
    QChart* c = chart();
    clearChart();
    m_axisLabels.clear();
    if (m_days.empty()) {
        c->setTitle(tr("No DMARC reports"));
        applyPalette();
        return;
    }
    c->setTitle(m_title.toHtmlEscaped()); // chart titles render markup; the title names a source IP

    // Days as indices on a category axis, so the bars and the line share it; labels on as many
    // days as the width holds.
    m_labels = labelsThatFit();
    m_low = viewport()->height() < 280;
    const auto n = static_cast<int>(m_days.size());
    const int step = std::max(1, (n + m_labels - 1) / m_labels);
    const bool oneYear = m_days.front().day.substr(0, 4) == m_days.back().day.substr(0, 4);
    auto* axisX = new QCategoryAxis;
    axisX->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    axisX->setRange(-0.5, n - 0.5);
    axisX->setGridLineVisible(false);
    for (int i = 0; i < n; i += step) {
        const QString d = QString::fromStdString(m_days[static_cast<std::size_t>(i)].day);
        const QString label = oneYear ? d.mid(5) : d;
        // Category labels render markup: the day comes from the reports' data.
        axisX->append(btui::escapedLabels({label}).front(), i);
        m_axisLabels.append(label);
    }

    auto* bounces = new QBarSet(tr("auth bounces"));
    double maxBounces = 0;
    auto* line = new QLineSeries;
    line->setName(tr("DMARC pass rate"));
    auto* points = new QScatterSeries;
    points->setName(tr("DMARC pass rate"));
    for (int i = 0; i < n; ++i) {
        const auto& d = m_days[static_cast<std::size_t>(i)];
        bounces->append(static_cast<double>(d.authBounces));
        maxBounces = std::max(maxBounces, static_cast<double>(d.authBounces));
        if (d.messages > 0) {
            line->append(i, d.passRate());
            points->append(i, d.passRate());
        }
    }
    const QColor auth = btui::familyColor(u"auth");
    bounces->setColor(auth);
    bounces->setBorderColor(auth);
    auto* bars = new QBarSeries;
    bars->append(bounces);
    bars->setBarWidth(0.7);
    c->addSeries(bars);
    const QColor rate = rateColor(palette());
    line->setPen(QPen(rate, 2.0));
    c->addSeries(line);
    points->setColor(rate);
    points->setBorderColor(rate);
    points->setMarkerSize(n > 60 ? 5 : 8);
    c->addSeries(points);

    auto* axisRate = new QValueAxis;
    axisRate->setRange(0, 100);
    // Qt Charts elides every value label to "..." once their rows overlap: fewer ticks on a low chart.
    axisRate->setTickCount(m_low ? 3 : 6);
    axisRate->setLabelFormat(u"%d %%"_s);
    axisRate->setTitleText(tr("DMARC pass"));
    auto* axisBounces = new QValueAxis;
    axisBounces->setLabelFormat(u"%d"_s);
    axisBounces->setRange(0, std::max(4.0, maxBounces * 1.15));
    axisBounces->applyNiceNumbers();
    axisBounces->setTitleText(tr("auth bounces"));
    axisBounces->setGridLineVisible(false);
    c->addAxis(axisX, Qt::AlignBottom);
    c->addAxis(axisRate, Qt::AlignLeft);
    c->addAxis(axisBounces, Qt::AlignRight);
    bars->attachAxis(axisX);
    bars->attachAxis(axisBounces);
    for (QXYSeries* s : {static_cast<QXYSeries*>(line), static_cast<QXYSeries*>(points)}) {
        s->attachAxis(axisX);
        s->attachAxis(axisRate);
    }

    // The legend names the line and the bars once (the points repeat the line).
    c->legend()->setVisible(true);
    const auto markers = c->legend()->markers(points);
    for (auto* m : markers)
        m->setVisible(false);

    const auto tip = [this](int i) {
        if (i < 0 || i >= static_cast<int>(m_days.size()))
            return QString();
        const auto& d = m_days[static_cast<std::size_t>(i)];
        QString text = QString::fromStdString(d.day) + u'\n';
        text += d.messages > 0 ? tr("DMARC pass: %1 % of %2 messages").arg(d.passRate(), 0, 'f', 1).arg(d.messages)
                               : tr("no report counts messages this day");
        text += u'\n' + tr("auth-family bounces: %1").arg(d.authBounces);
        return text;
    };
    connect(bars, &QBarSeries::hovered, this, [tip, this](bool on, int index, QBarSet*) {
        if (on)
            QToolTip::showText(QCursor::pos(), btui::plainToolTip(tip(index)), this);
        else
            QToolTip::hideText();
    });
    connect(points, &QScatterSeries::hovered, this, [tip, this](const QPointF& p, bool on) {
        if (on)
            QToolTip::showText(QCursor::pos(), btui::plainToolTip(tip(qRound(p.x()))), this);
        else
            QToolTip::hideText();
    });
    applyPalette();
}
