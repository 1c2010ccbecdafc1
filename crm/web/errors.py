"""The error pages: one Chinese page per status, and the CSRF failure the outbox retries."""
from flask import g, render_template, request
from flask_wtf.csrf import CSRFError

from crm.api import problems

ERROR_TEXT = {
    400: ("请求无效", "请求无法处理。如果是表单，请刷新页面后重试。"),
    403: ("无权操作", "您的账号没有执行此操作的权限。"),
    404: ("页面不存在", "找不到该页面或记录，或者它不在您的管辖范围内。"),
    405: ("方法不允许", "不支持这种访问方式。"),
    413: ("文件太大", "上传的内容超过了允许的大小。"),
    500: ("服务器错误", "系统出现错误，已记录。请稍后重试。"),
}


def init_app(app):
    def render(code, message=None, exc=None):
        if request.path.startswith("/api/"):  # the API answers in application/problem+json
            return problems.from_http_exception(exc) if exc is not None else problems.problem(code)
        title, text = ERROR_TEXT[code]
        return render_template("error.html", code=code, title=title, text=message or text), code

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        g.csrf_failed = True  # the outbox takes a fresh token and tries again
        return render(400, "表单已过期或缺少安全令牌，请刷新页面后重新提交。")

    for code in ERROR_TEXT:
        app.register_error_handler(code, lambda exc, code=code: render(code, exc=exc))
