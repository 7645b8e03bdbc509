namespace Blob.Runtime;

/// <summary>Marks a setting that changes no result (how often to checkpoint, which splits to evaluate): left out of a run's recorded settings.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ChangesNoResultAttribute : Attribute;
