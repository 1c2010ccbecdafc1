from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField

from crm.common.numbers import coerce_id
from crm.common.forms import BaseForm


class UploadForm(BaseForm):
    file = FileField("台账文件", validators=[FileRequired("请选择要导入的文件"),
                                         FileAllowed(["xlsx", "xlsm", "csv", "txt"], "只能导入 .xlsx 或 .csv 文件")],
                     description="Excel（.xlsx）或 CSV（UTF-8 或 GBK 编码均可）；表头上方可以有标题行")
    org = SelectField("默认所属工会", coerce=coerce_id, choices=[],
                      description="表中没有“所属工会”一列，或某行没填时，用这个单位")
    on_duplicate = RadioField("已有档案的企业", choices=[("update", "用表中的内容更新（空白单元格不会清空已有内容）"),
                                                    ("skip", "跳过，不修改已有档案")], default="update")


class CommitForm(BaseForm):
    valid_only = BooleanField("只导入无误的行（有错误的行不导入，可下载修改后再导入）")
