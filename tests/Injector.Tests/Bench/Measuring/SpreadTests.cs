using TokenInjector.Bench.Measuring;

namespace TokenInjector.Tests.Bench.Measuring;

public sealed class SpreadTests
{
    [Theory]
    [InlineData(new[] { 2.6, 1.5, 2.0 }, 2.0, 1.5, 2.6)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5, 1.0, 4.0)]
    [InlineData(new[] { 7.0 }, 7.0, 7.0, 7.0)]
    public void Of_GivesMedianAndRange_WhateverTheOrder(double[] values, double median, double min, double max) =>
        Assert.Equal(new Spread(median, min, max, values.Length), Spread.Of(values));

    [Fact]
    public void RelativeRange_IsTheRangeAsAShareOfTheMedian() =>
        Assert.Equal(0.08, Spread.Of([0.96, 1.0, 1.04]).RelativeRange, precision: 10);

    [Fact]
    public void Of_Nothing_IsNotANumber() => Assert.True(double.IsNaN(Spread.Of([]).Median));
}
