"""Static tables for the demo data (buildings/demo.py): Shanghai's districts and streets, name pools.

The 16 districts carry their administrative codes; the streets and towns (街道/镇)
are the real ones (about 215). Road names are real roads of each district;
building, company and person names are made up from the pools below and are not
meant to name real buildings, companies or people.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    """The whitespace-separated words of ``text``: keeps long name lists readable."""
    return text.split()


def _pairs(text: str) -> list[tuple[str, str]]:
    """``"王:wang 李:li"`` → ``[("王", "wang"), ("李", "li")]``."""
    return [tuple(item.split(":")) for item in text.split()]


# (code, name, streets and towns, a few real roads, relative weight of business buildings)
# fmt: off
DISTRICTS: list[tuple[str, str, list[str], list[str], int]] = [
    ("310101", "黄浦区",
     _words("南京东路街道 外滩街道 半淞园路街道 小东门街道 豫园街道 老西门街道 五里桥街道 打浦桥街道 "
            "淮海中路街道 瑞金二路街道"),
     _words("南京东路 延安东路 西藏中路 淮海中路 河南中路 中山东一路 北京东路 四川中路"),
     180),
    ("310104", "徐汇区",
     _words("天平路街道 湖南路街道 斜土路街道 枫林路街道 长桥街道 田林街道 虹梅路街道 康健新村街道 "
            "徐家汇街道 凌云路街道 龙华街道 漕河泾街道 华泾镇"),
     _words("漕溪北路 肇嘉浜路 虹桥路 宜山路 田林路 桂平路 龙华中路 衡山路"),
     150),
    ("310105", "长宁区",
     _words("华阳路街道 江苏路街道 新华路街道 周家桥街道 天山路街道 仙霞新村街道 虹桥街道 程家桥街道 "
            "北新泾街道 新泾镇"),
     _words("延安西路 遵义路 长宁路 仙霞路 天山路 虹桥路 娄山关路 金钟路"),
     130),
    ("310106", "静安区",
     _words("南京西路街道 静安寺街道 江宁路街道 石门二路街道 曹家渡街道 天目西路街道 北站街道 宝山路街道 "
            "芷江西路街道 共和新路街道 大宁路街道 彭浦新村街道 临汾路街道 彭浦镇"),
     _words("南京西路 威海路 延安中路 北京西路 新闸路 江宁路 愚园路 天目西路 恒丰路 共和新路 万荣路 广中西路"),
     200),
    ("310107", "普陀区",
     _words("长寿路街道 曹杨新村街道 长风新村街道 宜川路街道 甘泉路街道 石泉路街道 万里街道 真如镇街道 "
            "长征镇 桃浦镇"),
     _words("长寿路 中山北路 大渡河路 金沙江路 曹杨路 铜川路 武宁路 真北路"),
     90),
    ("310109", "虹口区",
     _words("欧阳路街道 曲阳路街道 广中路街道 嘉兴路街道 凉城新村街道 四川北路街道 北外滩街道 江湾镇街道"),
     _words("四川北路 东大名路 吴淞路 曲阳路 西江湾路 海宁路 东长治路"),
     80),
    ("310110", "杨浦区",
     _words("定海路街道 平凉路街道 江浦路街道 四平路街道 控江路街道 长白新村街道 延吉新村街道 殷行街道 "
            "大桥街道 五角场街道 新江湾城街道 长海路街道"),
     _words("四平路 邯郸路 国权路 政通路 淞沪路 黄兴路 杨树浦路 控江路"),
     90),
    ("310112", "闵行区",
     _words("江川路街道 古美路街道 新虹街道 浦锦街道 莘庄镇 七宝镇 颛桥镇 华漕镇 虹桥镇 梅陇镇 吴泾镇 "
            "马桥镇 浦江镇"),
     _words("申长路 虹井路 漕宝路 莘庄路 都市路 吴中路 顾戴路 申滨路"),
     110),
    ("310113", "宝山区",
     _words("友谊路街道 吴淞街道 张庙街道 罗店镇 大场镇 杨行镇 月浦镇 罗泾镇 顾村镇 高境镇 庙行镇 "
            "淞南镇"),
     _words("友谊路 牡丹江路 共和新路 长江西路 同济路 沪太路"),
     60),
    ("310114", "嘉定区",
     _words("新成路街道 真新街道 嘉定镇街道 南翔镇 安亭镇 马陆镇 徐行镇 华亭镇 外冈镇 江桥镇 菊园新区"),
     _words("城中路 墨玉南路 博园路 曹安公路 金沙江西路 裕民南路"),
     60),
    ("310115", "浦东新区",
     _words("潍坊新村街道 陆家嘴街道 周家渡街道 塘桥街道 上钢新村街道 南码头路街道 沪东新村街道 "
            "金杨新村街道 洋泾街道 浦兴路街道 东明路街道 花木街道 川沙新镇 高桥镇 北蔡镇 合庆镇 唐镇 "
            "曹路镇 金桥镇 高行镇 高东镇 张江镇 三林镇 惠南镇 周浦镇 新场镇 大团镇 康桥镇 航头镇 "
            "祝桥镇 泥城镇 宣桥镇 书院镇 万祥镇 老港镇 南汇新城镇"),
     _words("世纪大道 陆家嘴环路 银城中路 浦东南路 张杨路 东方路 杨高南路 锦绣路 碧波路 祖冲之路 新金桥路 花木路"),
     270),
    ("310116", "金山区",
     _words("石化街道 朱泾镇 枫泾镇 张堰镇 亭林镇 吕巷镇 廊下镇 金山卫镇 漕泾镇 山阳镇"),
     _words("卫零路 龙航路 金山大道 板桥西路"),
     20),
    ("310117", "松江区",
     _words("岳阳街道 永丰街道 方松街道 中山街道 广富林街道 九里亭街道 泗泾镇 佘山镇 车墩镇 新桥镇 "
            "洞泾镇 九亭镇 泖港镇 石湖荡镇 新浜镇 叶榭镇 小昆山镇"),
     _words("人民北路 广富林路 文诚路 沪亭北路 荣乐东路 新松江路"),
     50),
    ("310118", "青浦区",
     _words("夏阳街道 盈浦街道 香花桥街道 朱家角镇 练塘镇 金泽镇 赵巷镇 徐泾镇 华新镇 重固镇 白鹤镇"),
     _words("公园路 华志路 诸光路 崧泽大道 淀山湖大道"),
     40),
    ("310120", "奉贤区",
     _words("西渡街道 奉浦街道 金海街道 南桥镇 奉城镇 庄行镇 金汇镇 四团镇 青村镇 柘林镇 海湾镇"),
     _words("南桥路 百齐路 望园路 金海公路 解放东路"),
     30),
    ("310151", "崇明区",
     _words("城桥镇 堡镇 新河镇 庙镇 竖新镇 向化镇 三星镇 港沿镇 中兴镇 陈家镇 绿华镇 港西镇 建设镇 "
            "新海镇 东平镇 长兴镇 新村乡 横沙乡"),
     _words("人民路 八一路 东门路 崇明大道"),
     9),
]
# fmt: on

DEMO_DISTRICT_CODES = ("310106", "310115", "310107")

# Building names: "<place or word><suffix>", made up.
BUILDING_WORDS = _words(
    "国际 金融 世纪 环球 东方 中环 华信 汇银 星光 瑞丰 嘉德 恒泰 鼎盛 融信 创智 中汇 华融 兴业 锦绣 滨江 "
    "长江 申江 浦江 华东 海通 新城 凯旋 明珠 银座 盛世 宏图 丰盛 华夏 天安 金穗 富华 万通 信达 协和 时代 "
    "远洋 中信 同济 紫荆 御景 鸿运 光华 永新 和平 大华"
)
BUILDING_SUFFIXES = _words(
    "大厦 国际大厦 中心 广场 商务中心 金融中心 科技园 商务楼 大楼 时代广场 财富中心 企业天地 创意园 写字楼 商务大厦 科技大厦"
)
PROPERTY_COMPANIES = [
    "上海恒信物业管理有限公司",
    "上海申城物业服务有限公司",
    "上海华庭物业管理有限公司",
    "上海安居物业服务有限公司",
    "上海瑞泰物业管理有限公司",
    "上海东方楼宇物业服务有限公司",
    "上海中联物业管理有限公司",
    "上海金桥物业服务有限公司",
    "上海锦程物业管理有限公司",
    "上海嘉信物业服务有限公司",
    "上海新航物业管理有限公司",
    "上海联城物业服务有限公司",
]

# Company names: 上海<two characters><line of business>有限公司, made up.
COMPANY_WORDS = _words(
    "瑞华 博远 启明 嘉禾 汇通 联创 智云 信和 鼎新 华康 思源 远景 德润 宏达 正泰 同创 易联 蓝海 卓越 安信 "
    "立德 明志 云帆 天择 和众 亿达 睿信 泓源 知行 聚能 弘毅 青松 晨曦 明德 润泽 凯瑞 星河 祥和 沐阳 承启 "
    "悦达 朗越 锐思 鼎泰 微澜 拓普 优策 盛安 华研 致远 中恒 京沪"
)
# (line of business in the name, industry)
INDUSTRIES: list[tuple[str, str]] = _pairs(
    "信息科技:信息技术 网络科技:信息技术 软件:信息技术 投资管理:金融 资产管理:金融 金融信息服务:金融 "
    "商务咨询:商务服务 企业管理咨询:商务服务 人力资源:商务服务 文化传媒:文化创意 广告:文化创意 建筑设计:专业服务 "
    "医药科技:生物医药 供应链管理:贸易物流 国际贸易:贸易物流 检测技术:专业服务"
)

# Person names: (characters, pinyin), made up from common surnames and given-name characters.
SURNAMES: list[tuple[str, str]] = _pairs(
    "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou "
    "徐:xu 孙:sun 马:ma 朱:zhu 胡:hu 郭:guo 何:he 高:gao 林:lin 罗:luo "
    "郑:zheng 梁:liang 谢:xie 宋:song 唐:tang 许:xu 韩:han 冯:feng 邓:deng 曹:cao "
    "彭:peng 曾:zeng 肖:xiao 田:tian 董:dong 袁:yuan 潘:pan 蒋:jiang 蔡:cai 杜:du "
    "叶:ye 程:cheng 沈:shen 顾:gu 陆:lu 钱:qian 姚:yao 汪:wang 金:jin 施:shi"
)
GIVEN_MALE: list[tuple[str, str]] = _pairs(
    "伟:wei 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 杰:jie 涛:tao 明:ming 超:chao "
    "刚:gang 浩:hao 宇:yu 晨:chen 俊:jun 鹏:peng 辉:hui 斌:bin 凯:kai 睿:rui "
    "博:bo 峰:feng 健:jian 毅:yi 志:zhi 文:wen 嘉:jia 子:zi 天:tian 海:hai"
)
GIVEN_FEMALE: list[tuple[str, str]] = _pairs(
    "芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 玲:ling 婷:ting "
    "欣:xin 怡:yi 佳:jia 琳:lin 雪:xue 倩:qian 思:si 雨:yu 梦:meng 晓:xiao "
    "颖:ying 丹:dan 蕾:lei 洁:jie 慧:hui 萍:ping 燕:yan 诗:shi 悦:yue 月:yue"
)

# Address codes for ID numbers: Shanghai's districts, and places people come from to work here.
ID_AREA_CODES = _words(
    "310101 310104 310105 310106 310107 310109 310110 310112 310113 310114 310115 310116 "
    "310117 310118 310120 310151 320102 320106 320505 320602 330106 330203 340104 350102 "
    "360102 370102 410105 420106 430103 440106 500103 510104 610113 130102 140105 210102 "
    "220102 230102 450103 530102 620102"
)
MOBILE_PREFIXES = _words(
    "139 138 137 136 135 150 151 152 158 159 182 183 187 188 130 131 132 "
    "155 156 185 186 133 153 180 181 189 177 199 166 173 176 178 191 198"
)

# Event titles by kind, realistic for a building's party–mass service station.
EVENT_TITLES: dict[str, list[str]] = {
    "party_class": [
        "学习贯彻党的二十届三中全会精神专题党课",
        "新时代楼宇党建工作专题党课",
        "“两新”组织党员教育专题党课",
        "红色上海：从一大会址出发",
        "党章党规党纪学习专题党课",
        "青年党员的初心与担当",
    ],
    "safety_lecture": [
        "高层楼宇消防安全讲座",
        "防范电信网络诈骗安全讲座",
        "职场急救与AED使用培训",
        "办公场所用电安全讲座",
        "数据安全与个人信息保护讲座",
    ],
    "youth_social": [
        "楼宇青年交友联谊会",
        "白领青年读书分享会",
        "午间咖啡沙龙",
        "楼宇青年羽毛球友谊赛",
        "下班后音乐分享夜",
    ],
    "counselling": [
        "职场压力心理咨询（一对一）",
        "情绪管理心理咨询（一对一）",
        "亲子关系心理咨询（一对一）",
    ],
    "other": [
        "楼宇企业政策宣讲会",
        "“1℃空间”志愿服务",
        "企业人才政策咨询会",
        "楼宇企业服务专员接待日",
        "知识产权保护咨询会",
    ],
}
SPEAKERS = _words(
    "区委党校讲师 街道党工委书记 区消防救援支队教官 派出所民警 心理咨询师 "
    "区人社局工作人员 律师事务所律师 街道社工 区红十字会讲师"
)
