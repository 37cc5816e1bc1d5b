// The guide's labels (zh-CN) and their English; the APIs answer in the chosen language too.
export const TEXT = {
  "zh-CN": {
    crumb: "【计算】>【镜像服务】", signout: "退出", signin: "登录", signin_title: "选择演示账号登录",
    images: "镜像", public: "公共镜像", private: "私有镜像", shared: "共享镜像",
    name: "名称", status: "状态", os: "操作系统", type: "类型", disk: "系统盘 (GB)", size: "镜像大小",
    filter_name: "按名称筛选", search: "搜索", next: "下一页", none: "暂无镜像",
    quota: (n) => `您还可以创建${n}个私有镜像`, switch: "English",
  },
  en: {
    crumb: "Compute > Image Management Service", signout: "Sign out", signin: "Sign in",
    signin_title: "Sign in as a demo account",
    images: "Images", public: "Public images", private: "Private images", shared: "Shared images",
    name: "Name", status: "Status", os: "OS", type: "Type", disk: "System disk (GB)", size: "Image size",
    filter_name: "Filter by name", search: "Search", next: "Next page", none: "No images",
    quota: (n) => `You can create ${n} more private images`, switch: "中文",
  },
};
