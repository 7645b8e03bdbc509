using System.Net;
using System.Net.Http.Headers;

namespace Blob.Hub;

/// <summary>
/// The Hub's HTTP side for one model: what a file is (<see cref="Head"/>) and its bytes (<see cref="Get"/>), with
/// the token sent to the endpoint only. A refusal becomes a <see cref="HubException"/> naming the model, the file
/// and the HTTP status, with the Hub's own error code (X-Error-Code) where it gave one.
/// </summary>
public sealed class HubClient : IDisposable
{
    const int MaxRedirects = 10;
    readonly HttpClient _http;
    readonly HubSettings _settings;
    readonly Uri _endpoint;

    public HubRepoId Id { get; }

    public HubClient(HubSettings settings, HubRepoId id)
    {
        _settings = settings;
        Id = id;
        if (!Uri.TryCreate(settings.Endpoint + "/", UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new HubException($"HF_ENDPOINT '{settings.Endpoint}': not an http(s) address");
        _endpoint = endpoint;
        // Redirects are followed here, not by the handler: HEAD follows only the Hub's own (a renamed model), not
        // the one to the file's storage, whose headers are not the Hub's.
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = settings.Timeout,
        };
        _http = new HttpClient(handler) { Timeout = settings.Timeout };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("blob-net", typeof(HubClient).Assembly.GetName().Version?.ToString() ?? "0"));
    }

    /// <summary>resolve/REVISION/FILE under the endpoint, the revision escaped whole (refs/pr/1 is one segment).</summary>
    public Uri ResolveUrl(string file, string revision) => new(_endpoint,
        $"{Uri.EscapeDataString(Id.Owner)}/{Uri.EscapeDataString(Id.Name)}/resolve/{Uri.EscapeDataString(revision)}/"
        + string.Join("/", file.Split('/').Select(Uri.EscapeDataString)));

    /// <summary>
    /// The file's metadata at the revision; null when the Hub says the model has no such file (404 EntryNotFound,
    /// or a bare 404). Any other refusal throws.
    /// </summary>
    public HubFileInfo? Head(string file, string revision)
    {
        using var response = Send(HttpMethod.Head, ResolveUrl(file, revision), range: null, file, followAll: false, out var final);
        if (response.StatusCode == HttpStatusCode.NotFound && ErrorCode(response) is null or "EntryNotFound") return null;
        if (!response.IsSuccessStatusCode && !IsRedirect(response.StatusCode)) throw Refused(file, response);
        return Info(file, response, final);
    }

    /// <summary>The metadata in a HEAD answer's headers; the redirect's target, if any, is where the bytes are.</summary>
    HubFileInfo Info(string file, HttpResponseMessage response, Uri url)
    {
        string? etag = Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag");
        if (etag is null) throw new HubException($"{Id}: {file}: the Hub's answer has no ETag, so the file cannot be cached ({url})");
        etag = NormalizeEtag(etag);
        if (etag.Length == 0 || !etag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new HubException($"{Id}: {file}: the Hub's ETag '{etag}' cannot name a cache file ({url})");
        long? size = long.TryParse(Header(response, "X-Linked-Size"), out var linked) ? linked : response.Content.Headers.ContentLength;
        if (size is null) throw new HubException($"{Id}: {file}: the Hub's answer has no size (X-Linked-Size or Content-Length) ({url})");
        var location = IsRedirect(response.StatusCode) && response.Headers.Location is { } to ? new Uri(url, to) : url;
        return new HubFileInfo(file, Header(response, "X-Repo-Commit"), etag, size.Value, location);
    }

    /// <summary>
    /// The answer to a GET of the file's bytes from <paramref name="from"/> on (a Range request when above 0),
    /// redirects followed: 200, 206 or 416 (the range is past the end); any other status throws.
    /// </summary>
    public HttpResponseMessage Get(HubFileInfo file, long from)
    {
        var response = Send(HttpMethod.Get, file.Location, from > 0 ? from : null, file.File, followAll: true, out _);
        if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) return response;
        using (response) throw Refused(file.File, response);
    }

    /// <summary>Sends the request, following redirects (all of them, or only those within the endpoint's host).</summary>
    HttpResponseMessage Send(HttpMethod method, Uri url, long? range, string file, bool followAll, out Uri final)
    {
        for (int hop = 0; ; hop++)
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            if (range is { } start) request.Headers.Range = new RangeHeaderValue(start, null);
            if (_settings.Token is { } token && SameHost(url)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            HttpResponseMessage response;
            try { response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                throw new HubException($"{Id}: {file}: cannot reach {url.GetLeftPart(UriPartial.Authority)} ({Reason(e)}); " +
                                       "with HF_HUB_OFFLINE=1 only the cache is used", e);
            }
            final = url;
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location) return response;
            var next = new Uri(url, location);
            bool follow = followAll || (!location.IsAbsoluteUri && SameHost(next));
            if (!follow) return response;
            response.Dispose();
            if (hop == MaxRedirects) throw new HubException($"{Id}: {file}: more than {MaxRedirects} redirects, the last to {next}");
            url = next;
        }
    }

    HubException Refused(string file, HttpResponseMessage response)
    {
        int status = (int)response.StatusCode;
        string code = ErrorCode(response) is { } c ? $" {c}" : "";
        string why = (status, ErrorCode(response)) switch
        {
            // The Hub answers 401 (with RepoNotFound) for a private model and for one that does not exist alike.
            (401, _) => _settings.Token is null ? "no such model, or it is private or gated: set HF_TOKEN to a token that may read it"
                                                 : "no such model, or the token (HF_TOKEN) may not read it",
            (_, "RepoNotFound") => $"the Hub ({_settings.Endpoint}) has no model '{Id}'",
            (_, "RevisionNotFound") => "the model has no such revision (a branch, tag or commit)",
            (_, "GatedRepo") or (403, _) => "access to this gated model is not granted to this token; ask for it on the model's page",
            _ => Header(response, "X-Error-Message") ?? response.ReasonPhrase ?? "refused",
        };
        return new HubException($"{Id}: {file}: HTTP {status}{code}: {why} ({response.RequestMessage?.RequestUri})");
    }

    bool SameHost(Uri url) => Uri.Compare(url, _endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400;

    static string? ErrorCode(HttpResponseMessage response) => Header(response, "X-Error-Code");

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.FirstOrDefault() : null;

    /// <summary>An ETag without its weak marker and quotes: W/"abc" → abc.</summary>
    public static string NormalizeEtag(string etag) => (etag.StartsWith("W/") ? etag[2..] : etag).Trim('"');

    static string Reason(Exception e) => e is TaskCanceledException ? "no answer in time" : e.InnerException?.Message ?? e.Message;

    public void Dispose() => _http.Dispose();
}
