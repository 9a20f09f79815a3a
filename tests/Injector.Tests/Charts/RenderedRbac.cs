using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// What a chart rendering's RBAC allows a service account, as kube-apiserver decides it: the rules of the Roles bound to
/// it by RoleBindings in a namespace, and of the ClusterRoles bound to it by ClusterRoleBindings everywhere; a rule
/// with resourceNames allows only those names, so never a create (the object has no name yet).
/// </summary>
internal static class RenderedRbac
{
    /// <summary>True when service account <paramref name="accountNamespace"/>/<paramref name="account"/> may <paramref name="verb"/> the resource.</summary>
    public static bool Allows(Rendering rendering, string accountNamespace, string account, string verb, string group, string resource, string @namespace, string? name)
    {
        bool Binds(JsonObject binding) => binding["subjects"]!.AsArray().Any(s =>
            s!["kind"]!.GetValue<string>() == "ServiceAccount" && s["name"]!.GetValue<string>() == account && s["namespace"]!.GetValue<string>() == accountNamespace);

        var roles = rendering.OfKind("RoleBinding").Where(b => Rendering.NamespaceOf(b) == @namespace && Binds(b))
            .Select(b => b["roleRef"]!)
            .Where(r => r["kind"]!.GetValue<string>() == "Role")
            .SelectMany(r => rendering.OfKind("Role").Where(role => Rendering.NamespaceOf(role) == @namespace && Rendering.Name(role) == r["name"]!.GetValue<string>()));
        var clusterRoles = rendering.OfKind("ClusterRoleBinding").Where(Binds)
            .Select(b => b["roleRef"]!)
            .Where(r => r["kind"]!.GetValue<string>() == "ClusterRole")
            .SelectMany(r => rendering.OfKind("ClusterRole").Where(role => Rendering.Name(role) == r["name"]!.GetValue<string>()));
        return roles.Concat(clusterRoles).SelectMany(role => role["rules"]!.AsArray()).Any(rule =>
            Lists(rule!["apiGroups"], group) && Lists(rule["resources"], resource) && Lists(rule["verbs"], verb)
            && (rule["resourceNames"] is not JsonArray names || (name is not null && names.Any(n => n!.GetValue<string>() == name))));
    }

    private static bool Lists(JsonNode? list, string value) =>
        list?.AsArray().Any(v => v!.GetValue<string>() is "*" || v.GetValue<string>() == value) == true;
}
